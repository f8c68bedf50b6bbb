using Dragonfly.Supernode.Admin;

namespace Dragonfly.Supernode.Tests.Admin;

/// <summary>The token itself: what is accepted, and that a comparison does not depend on where tokens differ.</summary>
public sealed class AdminTokenTests
{
    [Theory]
    [InlineData("0123456789abcdef")]
    [InlineData("  Zm9vYmFyYmF6cXV4MTIzNA==\n")]
    [InlineData("~!@#$%^&*()_+{}|:<>?-=[];',./`0")]
    public void TryCreate_VisibleAsciiOfSixteenOrMore_Accepted(string text)
    {
        AdminToken.TryCreate(text, "test", out var token, out var error).Should().BeTrue(error);

        token!.Matches(text.Trim()).Should().BeTrue();
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("0123456789abcde", "must be at least 16 characters long")]
    [InlineData("0123456789 abcdef", "must be visible ASCII")]
    [InlineData("0123456789abcdefé", "must be visible ASCII")]
    [InlineData("0123456789\u0001abcdef", "must be visible ASCII")]
    public void TryCreate_Unusable_RefusedWithAReason(string text, string reason)
    {
        AdminToken.TryCreate(text, "test", out var token, out var error).Should().BeFalse();

        token.Should().BeNull();
        error.Should().StartWith(reason);
    }

    [Theory]
    [InlineData("0123456789abcdef0")]
    [InlineData("0123456789abcdeX")]
    [InlineData("0123456789abcde")]
    [InlineData("")]
    [InlineData("0123456789ABCDEF")]
    public void Matches_AnyOtherText_False(string presented)
    {
        AdminToken.TryCreate("0123456789abcdef", "test", out var token, out _);

        token!.Matches(presented).Should().BeFalse();
    }

    [Fact]
    public void ToString_NeverShowsTheToken()
    {
        AdminToken.TryCreate("0123456789abcdef", "file /x", out var token, out _);

        token!.ToString().Should().Be("AdminToken(hidden, from file /x)");
    }
}
