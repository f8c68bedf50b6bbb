using Dragonfly.Common.Ids;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Common.Tests.Ids;

/// <summary>
/// Hostile text for the typed ids that arrive from the wire: false (or <see cref="FormatException"/> from Parse), or an
/// id that can name a file or a URL segment safely and round-trips through its text.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class IdsFuzzTests
{
    private const string Task = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static readonly string[] Valid = [Task, Task.ToUpperInvariant(), "127.0.0.1-1234-1795238008.142", "cdnnode:127.0.0.1~" + Task, "host-127.0.0.1-1795238008142000000"];

    private static readonly string[] Tokens = ["0", "f", "F", "g", "-", ".", "..", "~", ":", "/", "\\", "%2f", "cdnnode:", "127.0.0.1", " ", "\u0660"];

    [Fact]
    public Task TryParse_HostileIds_FalseOrASafeIdThatRoundTrips() => Fuzzer.RunAsync(8000, c =>
    {
        var text = c.OneIn(20) ? null : FuzzText.Hostile(c.Random, Valid, Tokens, maxLength: 400);
        c.SetInput(text);

        if (TaskId.TryParse(text, out var task))
        {
            task.Value.Should().MatchRegex("^[0-9a-f]{64}$");
            task.Shard.Should().Be(task.Value[..3]);
            TaskId.Parse(task.ToString()).Should().Be(task);
        }
        else
        {
            FluentActions.Invoking(() => TaskId.Parse(text!)).Should().Throw<FormatException>();
        }

        if (PeerId.TryParse(text, out var peer))
        {
            Safe(peer.Value);
            PeerId.Parse(peer.ToString()).Should().Be(peer);
        }
        else
        {
            FluentActions.Invoking(() => PeerId.Parse(text!)).Should().Throw<FormatException>();
        }

        if (Cid.TryParse(text, out var cid))
        {
            Safe(cid.Value);
            Cid.Parse(cid.ToString()).Should().Be(cid);
            _ = cid.IsSupernode;
        }
        else
        {
            FluentActions.Invoking(() => Cid.Parse(text!)).Should().Throw<FormatException>();
        }
    });

    private static void Safe(string id)
    {
        id.Should().NotBeEmpty().And.NotBe(".").And.NotBe("..");
        id.Length.Should().BeLessThanOrEqualTo(256);
        id.Should().NotContainAny("/", "\\", "?", "#", "%", " ", "\0");
        id.All(ch => ch > ' ' && ch < 0x7F).Should().BeTrue();
    }
}
