using Dragonfly.Supernode.Admin;
using Microsoft.Extensions.Primitives;

namespace Dragonfly.Supernode.Tests.Admin;

/// <summary>What a request may call: by the route's access, the token, the read switch and the Authorization header.</summary>
public sealed class AdminAccessPolicyTests
{
    private const string Token = "0123456789abcdef-admin";

    [Theory]
    [InlineData(RouteAccess.Open)]
    [InlineData(RouteAccess.View)]
    [InlineData(RouteAccess.Manage)]
    public void Check_NoToken_EveryRouteAllowedWithoutCredentials(RouteAccess access)
    {
        AdminAccessPolicy.Open.Check(access, StringValues.Empty).Should().Be(AdminCheck.Allowed);
    }

    [Theory]
    [InlineData(RouteAccess.Open, false, AdminCheck.Allowed)]
    [InlineData(RouteAccess.View, false, AdminCheck.Allowed)]
    [InlineData(RouteAccess.Manage, false, AdminCheck.Unauthenticated)]
    [InlineData(RouteAccess.Open, true, AdminCheck.Allowed)]
    [InlineData(RouteAccess.View, true, AdminCheck.Unauthenticated)]
    [InlineData(RouteAccess.Manage, true, AdminCheck.Unauthenticated)]
    public void Check_TokenSetNoHeader_OnlyGuardedRoutesRefused(RouteAccess access, bool protectViews, AdminCheck expected)
    {
        Policy(protectViews).Check(access, StringValues.Empty).Should().Be(expected);
    }

    [Theory]
    [InlineData("Bearer " + Token, AdminCheck.Allowed)]
    [InlineData("bearer " + Token, AdminCheck.Allowed)]
    [InlineData("BEARER   " + Token + "  ", AdminCheck.Allowed)]
    [InlineData("Bearer " + Token + "x", AdminCheck.Forbidden)]
    [InlineData("Bearer x" + Token, AdminCheck.Forbidden)]
    [InlineData("Bearer 0123456789abcdef-ADMIN", AdminCheck.Forbidden)]
    [InlineData("Bearer wrong", AdminCheck.Forbidden)]
    [InlineData("Bearer ", AdminCheck.Unauthenticated)]
    [InlineData("Bearer", AdminCheck.Unauthenticated)]
    [InlineData("Basic " + Token, AdminCheck.Unauthenticated)]
    [InlineData(Token, AdminCheck.Unauthenticated)]
    [InlineData("BearerX " + Token, AdminCheck.Unauthenticated)]
    [InlineData("", AdminCheck.Unauthenticated)]
    public void Check_ManageRoute_ByAuthorizationHeader(string header, AdminCheck expected)
    {
        Policy(protectViews: false).Check(RouteAccess.Manage, new StringValues(header)).Should().Be(expected);
    }

    [Fact]
    public void Check_TwoAuthorizationHeaders_Unauthenticated()
    {
        var twice = new StringValues(["Bearer " + Token, "Bearer " + Token]);

        Policy(protectViews: false).Check(RouteAccess.Manage, twice).Should().Be(AdminCheck.Unauthenticated);
    }

    [Fact]
    public void Constructor_ProtectViewsWithoutToken_Throws()
    {
        var create = () => new AdminAccessPolicy(null, protectViews: true);

        create.Should().Throw<ArgumentException>();
    }

    private static AdminAccessPolicy Policy(bool protectViews)
    {
        AdminToken.TryCreate(Token, "test", out var token, out _).Should().BeTrue();
        return new AdminAccessPolicy(token, protectViews);
    }
}
