using System.Security.Cryptography;
using Dragonfly.Dfget.Engine;
using Dragonfly.Dfget.Streaming;
using Dragonfly.Dfget.WorkHome;
using Dragonfly.TestCommon;

namespace Dragonfly.Dfget.Tests.Streaming;

public sealed class StreamingDownloadTests : IDisposable
{
    private const int PieceLength = 1000;
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));
    private readonly byte[] _content = Downloading.PieceFetcherTests.MakeContent(PieceLength * 3, seed: 11);

    public void Dispose()
    {
        _cts.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task CopyToAsync_PiecesCompleteOutOfOrder_DeliversBytesInOrderWhileDownloading()
    {
        var engine = new GatedEngine(_content, _dir.Combine("piece.service"));
        var sink = new MemoryStream();
        await using var stream = StreamingDownload.Start(engine, Request(), new StreamingOptions(), _cts.Token);

        var copy = stream.CopyToAsync(sink, _cts.Token);
        await engine.LaterPiecesReported.Task.WaitAsync(_cts.Token);
        (await stream.Length.WaitAsync(_cts.Token)).Should().Be(_content.Length);
        await Task.Delay(100);
        sink.Length.Should().Be(0, "piece 0 is not there yet");

        engine.ReleaseFirstPiece.SetResult();
        while (sink.Length < _content.Length)
        {
            await Task.Delay(10, _cts.Token);
        }

        copy.IsCompleted.Should().BeFalse("the download has not finished yet");
        engine.ReleaseFinish.SetResult();
        await copy.WaitAsync(_cts.Token);
        sink.ToArray().Should().Equal(_content);
    }

    [Fact]
    public async Task CopyToAsync_Sha256Matches_Completes()
    {
        var engine = new GatedEngine(_content, _dir.Combine("piece.service"), gated: false);
        var sink = new MemoryStream();
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(_content));
        await using var stream = StreamingDownload.Start(engine, Request(), new StreamingOptions { Sha256 = digest }, _cts.Token);

        await stream.CopyToAsync(sink, _cts.Token);

        sink.ToArray().Should().Equal(_content);
    }

    [Fact]
    public async Task CopyToAsync_Sha256Mismatch_ThrowsBeforeCompleting()
    {
        var engine = new GatedEngine(_content, _dir.Combine("piece.service"), gated: false);
        await using var stream = StreamingDownload.Start(engine, Request(), new StreamingOptions { Sha256 = new string('a', 64) }, _cts.Token);

        var act = () => stream.CopyToAsync(new MemoryStream(), _cts.Token);

        (await act.Should().ThrowAsync<BlobStreamException>()).Which.Message.Should().Contain("sha256 mismatch");
    }

    [Fact]
    public async Task CopyToAsync_DownloadFails_Throws()
    {
        var engine = new GatedEngine(_content, _dir.Combine("piece.service"), gated: false) { Fail = true };
        await using var stream = StreamingDownload.Start(engine, Request(), new StreamingOptions(), _cts.Token);

        var act = () => stream.CopyToAsync(new MemoryStream(), _cts.Token);

        (await act.Should().ThrowAsync<BlobStreamException>()).Which.Result!.BackSourceReason.Should().Be(1003);
    }

    [Fact]
    public async Task CopyToAsync_EngineEndsRightAfterItsLastPiece_CompletesEveryTime()
    {
        // The end of a download is seen through a progress report made just before the engine's task completes; a reader
        // that wakes on that report must still notice the completion (it used to wait for a further report, which never came).
        for (var i = 0; i < 300; i++)
        {
            var engine = new ImmediateEngine(_content, _dir.Combine($"piece-{i}.service"));
            var sink = new MemoryStream();
            await using var stream = StreamingDownload.Start(engine, Request() with { Output = _dir.Combine($"out-{i}.bin") }, new StreamingOptions(), _cts.Token);

            await stream.CopyToAsync(sink, _cts.Token);

            sink.Length.Should().Be(_content.Length);
        }
    }

    private DownloadRequest Request() => new()
    {
        Url = new Uri("http://127.0.0.1:1/blob"),
        Output = _dir.Combine("out.bin"),
        WorkHome = new WorkHomeLayout(_dir.Combine("home")),
    };

    /// <summary>Writes the whole content as one piece, reports it and returns at once (a small, warm blob).</summary>
    private sealed class ImmediateEngine(byte[] content, string piecePath) : IDownloadEngine
    {
        public Task<DownloadResult> DownloadAsync(DownloadRequest request, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
        {
            progress!.Report(new DownloadProgress(DownloadProgressKind.Registered, content.Length, 0, FilePath: piecePath));
            File.WriteAllBytes(piecePath, content);
            progress.Report(new DownloadProgress(DownloadProgressKind.PieceCompleted, content.Length, content.Length, 0, content.Length + 5, 0, content.Length, piecePath));
            File.Copy(piecePath, request.Output, overwrite: true);
            return Task.FromResult(new DownloadResult { Success = true, Length = content.Length });
        }
    }

    /// <summary>Writes pieces 2, 1, then (when released) 0, reporting progress like the real engine; then publishes the output.</summary>
    private sealed class GatedEngine(byte[] content, string piecePath, bool gated = true) : IDownloadEngine
    {
        public bool Fail { get; init; }

        public TaskCompletionSource LaterPiecesReported { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseFirstPiece { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseFinish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<DownloadResult> DownloadAsync(DownloadRequest request, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
        {
            progress!.Report(new DownloadProgress(DownloadProgressKind.Registered, content.Length, 0, FilePath: piecePath));
            using (var handle = File.OpenHandle(piecePath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
                foreach (var piece in new[] { 2, 1 })
                {
                    RandomAccess.Write(handle, content.AsSpan(piece * PieceLength, PieceLength), piece * PieceLength);
                    progress.Report(new DownloadProgress(DownloadProgressKind.PieceCompleted, content.Length, 0, piece, PieceLength + 5, piece * PieceLength, PieceLength, piecePath));
                }

                LaterPiecesReported.SetResult();
                if (Fail)
                {
                    return new DownloadResult { Success = false, BackSourceReason = 1003, ErrorCode = DfgetErrorCode.Download, Message = "cdn failed" };
                }

                if (gated)
                {
                    await ReleaseFirstPiece.Task.WaitAsync(cancellationToken);
                }

                RandomAccess.Write(handle, content.AsSpan(0, PieceLength), 0);
                progress.Report(new DownloadProgress(DownloadProgressKind.PieceCompleted, content.Length, 0, 0, PieceLength + 5, 0, PieceLength, piecePath));
            }

            if (gated)
            {
                await ReleaseFinish.Task.WaitAsync(cancellationToken);
            }

            File.Copy(piecePath, request.Output, overwrite: true);
            return new DownloadResult { Success = true, Length = content.Length };
        }
    }
}
