using System.Net;
using System.Net.Sockets;
using System.Text;
using Dragonfly.Dfdaemon.Proxy;
using Dragonfly.Dfdaemon.Tests.Support;
using Dragonfly.TestCommon;
using Microsoft.Extensions.DependencyInjection;

namespace Dragonfly.Dfdaemon.Tests.Proxy;

/// <summary>
/// Blind CONNECT tunnels and half-close: a client that shuts down its sending side after its request (<c>nc -N</c>, a TLS client
/// after close_notify) still gets the whole answer, and a half-closed tunnel the other side leaves silent ends after
/// <see cref="TcpTunnel.HalfClosedIdleTimeout"/>. The upstreams are raw TCP servers on loopback.
/// </summary>
public class TcpTunnelTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task Tunnel_ClientHalfCloses_UpstreamReadsToEofThenAnswers_ClientGetsTheWholeAnswer()
    {
        var answer = new byte[1024 * 1024];
        new Random(3).NextBytes(answer);
        await using var upstream = ReadToEofServer.Start(async (request, stream) =>
        {
            // The answer only starts after the request's EOF, takes a while, and comes in pieces.
            await Task.Delay(300);
            for (var offset = 0; offset < answer.Length; offset += 64 * 1024)
            {
                await stream.WriteAsync(answer.AsMemory(offset, 64 * 1024));
                await Task.Delay(20);
            }
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri($"http://127.0.0.1:{upstream.Port}"));
        using var client = await OpenTunnelAsync(daemon, upstream.Port);
        var s = client.GetStream();

        await s.WriteAsync("the whole request"u8.ToArray(), Timeout());
        client.Client.Shutdown(SocketShutdown.Send);
        var received = await ReadToEndAsync(s);

        (await upstream.Request).Should().Be("the whole request", "the client's EOF reached the upstream as an EOF");
        received.Length.Should().Be(answer.Length);
        received.Should().Equal(answer);
    }

    [Fact]
    public async Task Tunnel_HeadRequestAndEofInOneGo_Answered()
    {
        // printf 'CONNECT host:port HTTP/1.1\r\n\r\nrequest' | nc -N proxy port: the EOF may arrive before the tunnel exists.
        await using var upstream = ReadToEofServer.Start((request, stream) => stream.WriteAsync(Encoding.ASCII.GetBytes("answer to " + request)).AsTask());
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri($"http://127.0.0.1:{upstream.Port}"));
        using var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();

        await s.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{upstream.Port} HTTP/1.1\r\nHost: 127.0.0.1:{upstream.Port}\r\n\r\nrequest"), Timeout());
        client.Client.Shutdown(SocketShutdown.Send);
        var received = Encoding.ASCII.GetString(await ReadToEndAsync(s));

        received.Should().Be("HTTP/1.1 200 OK\r\n\r\nanswer to request");
    }

    [Fact]
    public async Task Tunnel_ClientHalfClosed_UpstreamSilent_ClosedAfterTheIdleBound()
    {
        var time = new FakeTimeProvider();
        await using var upstream = ReadToEofServer.Start((_, _) => Task.Delay(System.Threading.Timeout.Infinite));
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri($"http://127.0.0.1:{upstream.Port}"), services: s => s.AddSingleton<TimeProvider>(time));
        using var client = await OpenTunnelAsync(daemon, upstream.Port);
        var s = client.GetStream();

        await s.WriteAsync("request"u8.ToArray(), Timeout());
        client.Client.Shutdown(SocketShutdown.Send);
        (await upstream.Request).Should().Be("request");
        var end = s.ReadAsync(new byte[1], Timeout()).AsTask();
        time.Advance(TcpTunnel.HalfClosedIdleTimeout - TimeSpan.FromSeconds(1));
        (await Task.WhenAny(end, Task.Delay(300))).Should().NotBeSameAs(end, "the bound has not passed yet");

        // The tunnel arms its bound once it saw the EOF; advance until the close arrives.
        for (var i = 0; i < 100 && !end.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(2));
            await Task.WhenAny(end, Task.Delay(50));
        }

        end.IsCompleted.Should().BeTrue("a half-closed tunnel nobody talks on is closed after the idle bound");
        (await end).Should().Be(0);
    }

    [Fact]
    public async Task Tunnel_ClientHalfClosed_SlowButMovingAnswer_NotCutByTheIdleBound()
    {
        // Three pieces, each after two thirds of the bound: 2 bounds in all, never one without a byte.
        var time = new FakeTimeProvider();
        var step = TcpTunnel.HalfClosedIdleTimeout * 2 / 3;
        var next = new SemaphoreSlim(0);
        await using var upstream = ReadToEofServer.Start(async (_, stream) =>
        {
            for (var i = 1; i <= 3; i++)
            {
                await next.WaitAsync(Timeout());
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"piece{i};"));
            }
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri($"http://127.0.0.1:{upstream.Port}"), services: s => s.AddSingleton<TimeProvider>(time));
        using var client = await OpenTunnelAsync(daemon, upstream.Port);
        var s = client.GetStream();
        await s.WriteAsync("request"u8.ToArray(), Timeout());
        client.Client.Shutdown(SocketShutdown.Send);
        (await upstream.Request).Should().Be("request");

        var received = new StringBuilder();
        for (var i = 1; i <= 3; i++)
        {
            time.Advance(step);
            next.Release();
            var piece = new byte["pieceN;".Length];
            await s.ReadExactlyAsync(piece, Timeout());
            received.Append(Encoding.ASCII.GetString(piece));
        }

        received.ToString().Should().Be("piece1;piece2;piece3;");
        (await s.ReadAsync(new byte[1], Timeout())).Should().Be(0, "the upstream's close ends the tunnel");
    }

    [Fact]
    public async Task Tunnel_BothSidesOpenAndQuiet_NotBoundByTheHalfCloseIdleTimeout()
    {
        var time = new FakeTimeProvider();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var echo = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync(Timeout());
            var stream = accepted.GetStream();
            var buffer = new byte[1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, Timeout())) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n), Timeout());
            }
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri($"http://127.0.0.1:{port}"), services: s => s.AddSingleton<TimeProvider>(time));
        using var client = await OpenTunnelAsync(daemon, port);
        var s = client.GetStream();

        time.Advance(TcpTunnel.HalfClosedIdleTimeout * 10);
        await Task.Delay(200);
        await s.WriteAsync("still there"u8.ToArray(), Timeout());

        var reply = new byte["still there".Length];
        await s.ReadExactlyAsync(reply, Timeout());
        Encoding.ASCII.GetString(reply).Should().Be("still there", "an open tunnel may be quiet for as long as its ends like");
        client.Client.Shutdown(SocketShutdown.Send);
        await echo.WaitAsync(Timeout());
        (await s.ReadAsync(new byte[1], Timeout())).Should().Be(0, "the upstream's close after the client's EOF closes the tunnel");
    }

    [Fact]
    public async Task Tunnel_ClientResets_UpstreamClosedWithoutWaitingForTheIdleBound()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var upstreamEnd = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync(Timeout());
            try
            {
                return await accepted.GetStream().ReadAsync(new byte[16], Timeout());
            }
            catch (IOException)
            {
                return -1;
            }
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri($"http://127.0.0.1:{port}"), services: s => s.AddSingleton<TimeProvider>(new FakeTimeProvider()));
        var client = await OpenTunnelAsync(daemon, port);

        client.Client.LingerState = new LingerOption(true, 0);
        client.Dispose(); // RST: the client is gone, not half-closed

        (await upstreamEnd.WaitAsync(Timeout())).Should().BeLessThanOrEqualTo(0, "a reset client tears the whole tunnel down, with no time passing");
    }

    [Fact]
    public async Task Tunnel_UpstreamClosesFirst_ClientSeesEofAfterTheLastByte()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync(Timeout());
            await accepted.GetStream().WriteAsync("HTTP/1.0 200 OK\r\n\r\nbody until close"u8.ToArray(), Timeout());
        });
        await using var daemon = await TestDfdaemon.StartAsync(remote: new Uri($"http://127.0.0.1:{port}"));
        using var client = await OpenTunnelAsync(daemon, port);

        var received = Encoding.ASCII.GetString(await ReadToEndAsync(client.GetStream()));

        received.Should().Be("HTTP/1.0 200 OK\r\n\r\nbody until close", "a close-delimited answer ends when the upstream closes");
        await server.WaitAsync(Timeout());
    }

    [Fact]
    public async Task WriteAsync_ClientDataInManyPipeBlocks_SentInBuffersNotBlockByBlock()
    {
        // What a fast client sent sits in Kestrel's pipe as 4 KiB blocks: each write to the upstream socket is a send, so
        // 40 blocks go out as three buffers (64 KiB, 64 KiB, the rest), not 40 sends.
        var data = new byte[(40 * 4096) - 100];
        new Random(5).NextBytes(data);
        var upstream = new CountingStream();

        await TcpTunnel.WriteAsync(upstream, Blocks(data, 4096), Timeout());

        upstream.ToArray().Should().Equal(data);
        upstream.Writes.Should().Be(3);
    }

    [Fact]
    public async Task WriteAsync_OneBlock_WrittenAsItIs()
    {
        var upstream = new CountingStream();

        await TcpTunnel.WriteAsync(upstream, new System.Buffers.ReadOnlySequence<byte>("one block"u8.ToArray()), Timeout());

        Encoding.ASCII.GetString(upstream.ToArray()).Should().Be("one block");
        upstream.Writes.Should().Be(1);
    }

    /// <summary><paramref name="data"/> as a sequence of <paramref name="blockSize"/>-byte segments, as a pipe holds it.</summary>
    private static System.Buffers.ReadOnlySequence<byte> Blocks(byte[] data, int blockSize)
    {
        var first = new Block(data.AsMemory(0, Math.Min(blockSize, data.Length)), 0);
        var last = first;
        for (var offset = blockSize; offset < data.Length; offset += blockSize)
        {
            last = last.Append(data.AsMemory(offset, Math.Min(blockSize, data.Length - offset)));
        }

        return new System.Buffers.ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static async Task<TcpClient> OpenTunnelAsync(TestDfdaemon daemon, int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(daemon.Address.Host, daemon.Address.Port, Timeout());
        var s = client.GetStream();
        await s.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"), Timeout());
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await s.ReadAsync(one, Timeout()) == 1)
        {
            head.Append((char)one[0]);
        }

        head.ToString().Should().StartWith("HTTP/1.1 200");
        return client;
    }

    private static async Task<byte[]> ReadToEndAsync(Stream s)
    {
        using var all = new MemoryStream();
        await s.CopyToAsync(all, Timeout());
        return all.ToArray();
    }

    private sealed class Block : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Block(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Block Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Block(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>A stream that counts its writes (each one a send on a socket).</summary>
    private sealed class CountingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    /// <summary>A raw TCP server for one connection: reads the request until the client's EOF, then runs the answer, then closes.</summary>
    private sealed class ReadToEofServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly TaskCompletionSource<string> _request = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serve;

        private ReadToEofServer(Func<string, NetworkStream, Task> answer)
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _serve = ServeAsync(answer);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public Task<string> Request => _request.Task.WaitAsync(Timeout());

        public static ReadToEofServer Start(Func<string, NetworkStream, Task> answer) => new(answer);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await Task.WhenAny(_serve, Task.Delay(5000));
            _stop.Dispose();
        }

        private async Task ServeAsync(Func<string, NetworkStream, Task> answer)
        {
            try
            {
                using var accepted = await _listener.AcceptTcpClientAsync(_stop.Token);
                var stream = accepted.GetStream();
                using var request = new MemoryStream();
                await stream.CopyToAsync(request, _stop.Token);
                var text = Encoding.ASCII.GetString(request.ToArray());
                _request.TrySetResult(text);
                await answer(text, stream).WaitAsync(_stop.Token);
                accepted.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                _request.TrySetException(e);
            }
        }
    }
}
