using Dragonfly.Common.Errors;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Tests.Managers.Support;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Supernode.Tests.Managers.Registration;

/// <summary>
/// The legacy query values (<c>/peer/task</c>, <c>/peer/piece/suc</c>, <c>/peer/service/down</c>) and registration fields
/// as they arrive from the wire, hostile, mixed with the ids of real clients: the pull service answers every one with an
/// outcome value and registration with a result or a <see cref="DragonflyException"/>, never another exception; the
/// tracker still schedules a real client afterwards.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class PiecePullServiceFuzzTests : IDisposable
{
    private static readonly string[] Tokens = ["-", "0", "4194303", "4194304", "cdnnode:", "~", "@", ".", ":", "/", "%", " ", "700", "701", "702", "501", "500", "503"];

    private readonly Tracker _tracker = new();

    public void Dispose() => _tracker.Dispose();

    [Fact]
    public async Task PullReportAndRegister_HostileQueryValues_OutcomesNeverExceptions()
    {
        var first = await _tracker.RegisterAsync();
        await _tracker.CdnPiecesAsync(first.TaskId, 3);
        var known = new List<string> { first.TaskId.Value, first.Cid.Value, first.PeerId.Value, "cdnnode:10.0.0.1~" + first.TaskId.Value, Tracker.RangeOf(0), Tracker.RangeOf(2), "700", "701", "501" };

        await Fuzzer.RunAsync(3000, async c =>
        {
            string? Value() => c.Random.Next(8) switch
            {
                0 => null,
                < 4 => c.Pick([.. known]),
                _ => FuzzText.Hostile(c.Random, known, Tokens),
            };

            var (taskId, cid, status, result, range, dst) = (Value(), Value(), Value(), Value(), Value(), Value());
            c.SetInput($"taskId={taskId} cid={cid} status={status} result={result} range={range} dstCid={dst}");
            switch (c.Random.Next(5))
            {
                case 0:
                    _tracker.Pull.ReportPieceSuccess(taskId, cid, dst, range).Should().BeDefined();
                    break;
                case 1:
                    _tracker.Pull.ServiceDown(taskId, cid).Should().BeDefined();
                    break;
                case 2:
                    var request = _tracker.Request(clientNumber: c.Random.Next(2, 250)) with { Cid = cid ?? string.Empty, Path = "/peer/file/" + (range ?? "x"), Md5 = c.OneIn(3) ? result : null, Pattern = c.OneIn(4) ? status : null, SupernodeIp = c.OneIn(4) ? dst : "10.0.0.9", Headers = c.OneIn(3) ? [taskId ?? string.Empty] : null };
                    c.SetInput(c.Input + $" registration {request}");
                    try
                    {
                        var registered = await _tracker.Registration.RegisterAsync(request, c.CancellationToken);
                        known.Add(registered.Cid.Value);
                    }
                    catch (DragonflyException)
                    {
                    }

                    break;
                default:
                    (await _tracker.Pull.PullAsync(new PullRequest(taskId, cid, status, result, range, dst), c.CancellationToken)).Should().NotBeNull();
                    break;
            }
        });

        var fresh = await _tracker.RegisterAsync(_tracker.Request(clientNumber: 254));
        (await _tracker.PullAsync(fresh)).Should().BeOfType<PullOutcome.Continue>("the tracker still schedules a real client");
    }
}
