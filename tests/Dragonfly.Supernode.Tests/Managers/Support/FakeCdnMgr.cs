using System.Collections.Concurrent;
using Dragonfly.Common.Ids;
using Dragonfly.Common.Pieces;
using Dragonfly.Supernode.Managers.Cdn;

namespace Dragonfly.Supernode.Tests.Managers.Support;

/// <summary>A CDN that records what the tracker asks of it; pieces and completion are driven by the test through the observer.</summary>
public sealed class FakeCdnMgr : ICDNMgr
{
    public List<CdnTaskSpec> Triggers { get; } = [];

    public List<(TaskId TaskId, bool DeleteFiles)> Deletes { get; } = [];

    public ConcurrentDictionary<(TaskId, int), PieceMd5> PieceMd5s { get; } = new();

    public List<(TaskId TaskId, int PieceNum)> Verifications { get; } = [];

    public CdnPieceCheck VerifyResult { get; set; } = CdnPieceCheck.Good;

    public Exception? TriggerThrows { get; set; }

    public TaskCompletionSource? VerifyGate { get; set; }

    public void Trigger(CdnTaskSpec spec)
    {
        if (TriggerThrows is not null)
        {
            throw TriggerThrows;
        }

        lock (Triggers)
        {
            Triggers.Add(spec);
        }
    }

    public bool TryGetPieceMd5(TaskId taskId, int pieceNum, out PieceMd5 md5) => PieceMd5s.TryGetValue((taskId, pieceNum), out md5);

    public async Task<CdnPieceCheck> VerifyPieceAsync(TaskId taskId, int pieceNum, CancellationToken cancellationToken)
    {
        lock (Verifications)
        {
            Verifications.Add((taskId, pieceNum));
        }

        if (VerifyGate is not null)
        {
            await VerifyGate.Task.WaitAsync(cancellationToken);
        }

        return VerifyResult;
    }

    public Task DeleteAsync(TaskId taskId, bool deleteFiles, CancellationToken cancellationToken)
    {
        lock (Deletes)
        {
            Deletes.Add((taskId, deleteFiles));
        }

        return Task.CompletedTask;
    }

    public string DownloadPath(TaskId taskId, string rawUrl) => $"/download/{taskId.Shard}/{taskId.Value}";
}
