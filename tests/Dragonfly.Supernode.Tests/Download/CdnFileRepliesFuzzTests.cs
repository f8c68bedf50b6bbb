using Dragonfly.Common.Http1;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Download;
using Dragonfly.Supernode.Managers.Cdn;
using Dragonfly.Supernode.Storage;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;
using Microsoft.Extensions.Options;

namespace Dragonfly.Supernode.Tests.Download;

/// <summary>
/// Hostile paths, methods and <c>Range</c> headers for the download port's decision, over files of every readable
/// length, complete or still being written: only the documented statuses, and a body that lies inside the file and, while
/// the CDN writes, inside its readable prefix.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class CdnFileRepliesFuzzTests : IDisposable
{
    private const string Task = "abc0000000000000000000000000000000000000000000000000000000000001";

    private static readonly string[] RangeTokens = ["bytes", "=", "-", ",", " ", "0", "1", "9", "100", "4194304", "9223372036854775807", "9223372036854775808", "items", "+"];

    private readonly TempDirectory _home = new();
    private readonly LocalPieceStore _store;

    public CdnFileRepliesFuzzTests() => _store = new LocalPieceStore(Options.Create(new CdnOptions { HomeDir = _home.Path }));

    public void Dispose() => _home.Dispose();

    [Fact]
    public Task DecideAsync_HostileRequests_DocumentedStatusAndABodyInsideTheReadableFile() => Fuzzer.RunAsync(5000, async c =>
    {
        var taskId = TaskId.Parse(Task);
        var fileLength = c.Pick(0L, 1L, 5L, 100L, 4096L, c.Random.Next(0, 10_000));
        _store.Truncate(taskId, fileLength);
        var complete = c.OneIn(2);
        var readable = complete ? fileLength : c.Random.NextInt64(0, fileLength + 1);
        var replies = new CdnFileReplies(new FixedAvailability(c.OneIn(20) ? null : new CdnFileView(readable, complete)), _store);

        var path = c.Random.Next(6) switch
        {
            0 => FuzzText.Hostile(c.Random, [$"/download/abc/{Task}"], ["/", "download", "abc", Task, "..", "%2e", "ABC", Task.ToUpperInvariant()]),
            1 => c.Pick(HttpRequestFuzz.Traversals),
            _ => $"/download/abc/{Task}",
        };
        var method = c.OneIn(6) ? c.Pick("POST", "PUT", "DELETE", "OPTIONS", "get") : c.Pick("GET", "HEAD");
        var range = c.Random.Next(4) switch
        {
            0 => null,
            1 => c.Pick(HttpRequestFuzz.Ranges),
            2 => $"bytes={c.Random.NextInt64(-2, fileLength + 3)}-{(c.OneIn(3) ? string.Empty : c.Random.NextInt64(-2, fileLength + 3))}",
            _ => FuzzText.Hostile(c.Random, ["bytes=0-9", "bytes=-5", "bytes=7-"], RangeTokens),
        };
        c.SetInput($"{method} {path} Range: {range} (file {fileLength}, readable {readable}, complete {complete})");
        var head = new RequestHead(method, path, true, true, range is null ? [] : [new("Range", range)]);

        using var reply = await replies.DecideAsync(head, c.CancellationToken);
        reply.Status.Should().BeOneOf(200, 206, 404, 405, 416);
        if (reply.Status is 200 or 206)
        {
            reply.File.Should().NotBeNull();
            reply.Start.Should().BeGreaterThanOrEqualTo(0);
            reply.Count.Should().BeGreaterThanOrEqualTo(0);
            (reply.Start + reply.Count).Should().BeLessThanOrEqualTo(readable, "only bytes already written are served");
            if (reply.Status == 206)
            {
                reply.Count.Should().BePositive();
                reply.ContentRange.Should().Be(complete ? $"bytes {reply.Start}-{reply.Start + reply.Count - 1}/{fileLength}" : $"bytes {reply.Start}-{reply.Start + reply.Count - 1}/*");
            }
            else
            {
                complete.Should().BeTrue("a whole file is served only once it is complete");
                reply.Count.Should().Be(fileLength);
            }
        }
        else
        {
            reply.File.Should().BeNull();
        }

        if (ByteRange.TryParse(range, out var parsed))
        {
            (parsed.Start ?? 0).Should().BeGreaterThanOrEqualTo(0);
            (parsed.End ?? long.MaxValue).Should().BeGreaterThanOrEqualTo(parsed.Start ?? 0);
        }
    });

    private sealed class FixedAvailability(CdnFileView? view) : ICdnFileAvailability
    {
        public ValueTask<CdnFileView?> GetViewAsync(TaskId taskId, CancellationToken cancellationToken) => ValueTask.FromResult(view);
    }
}
