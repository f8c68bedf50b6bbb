using System.Net;
using System.Net.Sockets;
using System.Text;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;
using Dragonfly.Common.Rates;
using Dragonfly.Dfget.Downloading;
using Dragonfly.Dfget.Registration;
using Dragonfly.TestCommon;
using Dragonfly.TestCommon.Fuzzing;

namespace Dragonfly.Dfget.Tests.Downloading;

/// <summary>
/// A hostile or broken peer, on a real loopback socket: it answers each piece request with a seeded random edit of the
/// right response (its status line and headers, or its frame head, content and tail). The fetcher must never throw, must
/// call a piece good only when every byte is, and must never write outside the piece's own place in the file.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class HostilePeerTests : IAsyncLifetime
{
    private const int Responses = 300;
    private const int PieceSize = 1024 * 1024;
    private const byte Untouched = 0xEE;

    private readonly TempDirectory _dir = new();
    private readonly DfgetHttpClients _clients = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromMinutes(3));
    private PeerPieceServer _reference = null!;

    public async Task InitializeAsync() => _reference = await PeerPieceServer.StartAsync(PieceFetcherTests.MakeContent((PieceSize * 2) + 1000), PieceSize);

    public async Task DisposeAsync()
    {
        await _reference.DisposeAsync();
        _clients.Dispose();
        _cts.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task FetchAsync_SeededEditedResponses_NeverThrowAcceptOnlyTheRightBytesAndWriteOnlyThePiece()
    {
        var wrapped = _reference.Wrap(1);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\nContent-Length: {wrapped.Length}\r\n\r\n");
        await using var peer = HostilePeer.Start(_cts.Token);
        var piece = _reference.Pieces()[1] with { PeerPort = peer.Port };
        var contentOffset = PieceLayout.SourceOffset(1, PieceSize);
        var contentLength = PieceSize - PieceFrame.Overhead;
        var fetcher = new PieceFetcher(_clients, TimeProvider.System, new Md5Batcher());
        var accepted = 0;

        await Fuzzer.RunAsync(Responses, async c =>
        {
            var editHead = c.Random.Next(2) == 0;
            byte[] response = editHead
                ? [.. RequestMutations.Mutate(c.Random, head), .. wrapped]
                : [.. head, .. RequestMutations.Mutate(c.Random, wrapped)];
            var what = $"{(editHead ? "head" : "body")} edited";
            c.SetInput(response);
            var path = _dir.Combine("piece");
            File.Delete(path);
            using var file = PieceFile.Create(path);
            await file.WriteAsync(0, Enumerable.Repeat(Untouched, _reference.Content.Length).ToArray(), c.CancellationToken);

            peer.Response = response;
            var result = await fetcher.FetchAsync(piece, new PieceFetchTarget(file, _reference.Content.Length, new Rate(64 * 1024), DownloadRateLimiter.Unlimited), c.CancellationToken);

            var bytes = new byte[_reference.Content.Length];
            await file.ReadAsync(0, bytes, c.CancellationToken);
            bytes.AsSpan(0, (int)contentOffset).ContainsAnyExcept(Untouched).Should().BeFalse($"{what}: nothing is written before the piece");
            bytes.AsSpan((int)contentOffset + contentLength).ContainsAnyExcept(Untouched).Should().BeFalse($"{what}: nothing is written after the piece");
            if (result is PieceFetchResult.Success success)
            {
                accepted++;
                success.ContentOffset.Should().Be(contentOffset, what);
                bytes.AsSpan((int)contentOffset, contentLength).SequenceEqual(_reference.Content.AsSpan((int)contentOffset, contentLength))
                    .Should().BeTrue($"{what}: a piece called good has exactly the right bytes");
            }
            else
            {
                result.Should().BeAssignableTo<PieceFetchResult>(what).Which.Should().NotBeOfType<PieceFetchResult.WriteFailed>(what);
            }
        });

        accepted.Should().BeLessThan(FuzzSettings.Current.Cases(Responses), "most edits break the piece, and each of those must be refused");
    }

    /// <summary>
    /// A raw loopback server that answers every request head it reads, on any connection, with <see cref="Response"/> and
    /// then closes the connection (so a pooled connection the fetcher reuses is answered too).
    /// </summary>
    private sealed class HostilePeer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop;
        private readonly Task _loop;

        private HostilePeer(TcpListener listener, CancellationToken cancellationToken)
        {
            _listener = listener;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _loop = AcceptAsync(_stop.Token);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public byte[] Response { get; set; } = [];

        public static HostilePeer Start(CancellationToken cancellationToken)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new HostilePeer(listener, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _stop.Dispose();
        }

        private async Task AcceptAsync(CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(cancellationToken);
                _ = ServeAsync(client, Response, cancellationToken);
            }
        }

        private static async Task ServeAsync(TcpClient client, byte[] response, CancellationToken cancellationToken)
        {
            using (client)
            {
                try
                {
                    await using var stream = client.GetStream();
                    var seen = new List<byte>();
                    var one = new byte[1];
                    while (seen.Count < 4 || seen[^4] != '\r' || seen[^3] != '\n' || seen[^2] != '\r' || seen[^1] != '\n')
                    {
                        if (await stream.ReadAsync(one, cancellationToken) == 0)
                        {
                            return;
                        }

                        seen.Add(one[0]);
                    }

                    await stream.WriteAsync(response, cancellationToken);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                    // The fetcher may hang up as soon as it has seen enough to refuse the piece.
                }
            }
        }
    }
}
