using System.Net;
using System.Net.Sockets;
using Dragonfly.Common.Http1;
using Dragonfly.TestCommon;

namespace Dragonfly.Common.Tests.Http1;

/// <summary>The sender on a real loopback connection and a real file: what goes out, in what pieces, and how it ends.</summary>
public sealed class SocketFileSenderTests : IDisposable
{
    private readonly TempDirectory _temp = new("dragonfly-sender-");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        _temp.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task HeadRangeAndTrailer_GoOutExactly_PacedOnceForEachChunk()
    {
        var content = await WriteFileAsync(3 * 1024 * 1024);
        var (server, client) = await ConnectedPairAsync();
        using (server)
        using (client)
        using (var file = File.OpenHandle(_temp.Combine("f"), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous))
        using (var sender = new SocketFileSender(server, TimeSpan.FromSeconds(30)))
        {
            var paced = new List<int>();
            var receiving = ReceiveAsync(client, 3 + 2_500_000 + 1);

            var (outcome, fileBytes) = await sender.SendAsync("abc"u8.ToArray(), file, 100_000, 2_500_000, [0x7F], 1024 * 1024, n =>
            {
                paced.Add(n);
                return ValueTask.CompletedTask;
            });

            outcome.Should().Be(SendOutcome.Sent);
            fileBytes.Should().Be(2_500_000);
            paced.Should().Equal(1024 * 1024, 1024 * 1024, 2_500_000 - (2 * 1024 * 1024));
            var received = await receiving;
            received[..3].Should().Equal("abc"u8.ToArray());
            received.AsSpan(3, 2_500_000).SequenceEqual(content.AsSpan(100_000, 2_500_000)).Should().BeTrue();
            received[^1].Should().Be(0x7F);
        }
    }

    [Fact]
    public async Task NoRange_SendsTheHeadAndTrailerAlone()
    {
        var (server, client) = await ConnectedPairAsync();
        using (server)
        using (client)
        using (var sender = new SocketFileSender(server, TimeSpan.FromSeconds(30)))
        {
            var receiving = ReceiveAsync(client, 4);

            var (outcome, fileBytes) = await sender.SendAsync("abc"u8.ToArray(), null, 0, 0, [0x7F], 1024, null);

            outcome.Should().Be(SendOutcome.Sent);
            fileBytes.Should().Be(0);
            (await receiving).Should().Equal((byte)'a', (byte)'b', (byte)'c', 0x7F);
        }
    }

    [Fact]
    public async Task AFileShorterThanTheRange_EndsAsFileShort_WithTheBytesItHad()
    {
        await WriteFileAsync(1_000_000);
        var (server, client) = await ConnectedPairAsync();
        using (server)
        using (client)
        using (var file = File.OpenHandle(_temp.Combine("f"), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous))
        using (var sender = new SocketFileSender(server, TimeSpan.FromSeconds(30)))
        {
            var receiving = ReceiveAsync(client, 3 + 1_000_000);

            var (outcome, fileBytes) = await sender.SendAsync("abc"u8.ToArray(), file, 0, 2_000_000, [0x7F], 4 * 1024 * 1024, null);

            outcome.Should().Be(SendOutcome.FileShort, "the caller must close the connection rather than let the body look complete");
            fileBytes.Should().Be(1_000_000);
            (await receiving).Should().HaveCount(3 + 1_000_000);
        }
    }

    [Fact]
    public async Task APaceThatIsCancelled_EndsAsConnectionLost_BeforeTheChunk()
    {
        await WriteFileAsync(100_000);
        var (server, client) = await ConnectedPairAsync();
        using (server)
        using (client)
        using (var file = File.OpenHandle(_temp.Combine("f"), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous))
        using (var sender = new SocketFileSender(server, TimeSpan.FromSeconds(30)))
        {
            var calls = 0;
            var (outcome, fileBytes) = await sender.SendAsync([], file, 0, 100_000, [], 40_000, _ =>
                ++calls == 2 ? throw new OperationCanceledException() : ValueTask.CompletedTask);

            outcome.Should().Be(SendOutcome.ConnectionLost);
            fileBytes.Should().Be(40_000, "the first chunk went out, the second was never sent");
        }
    }

    [Fact]
    public async Task APeerThatClosed_EndsAsConnectionLost()
    {
        await WriteFileAsync(8 * 1024 * 1024);
        var (server, client) = await ConnectedPairAsync();
        client.LingerState = new LingerOption(true, 0);
        client.Dispose(); // a reset: the peer is gone
        using (server)
        using (var file = File.OpenHandle(_temp.Combine("f"), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous))
        using (var sender = new SocketFileSender(server, TimeSpan.FromSeconds(30)))
        {
            await Task.Delay(100, _timeout.Token);

            var (outcome, _) = await sender.SendAsync([], file, 0, 8 * 1024 * 1024, [], 1024 * 1024, null);

            outcome.Should().Be(SendOutcome.ConnectionLost);
        }
    }

    private async Task<byte[]> WriteFileAsync(int length)
    {
        var content = new byte[length];
        new Random(length).NextBytes(content);
        await File.WriteAllBytesAsync(_temp.Combine("f"), content, _timeout.Token);
        return content;
    }

    private async Task<(Socket Server, Socket Client)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync(_timeout.Token);
        await client.ConnectAsync(listener.LocalEndPoint!, _timeout.Token);
        return (await accepting, client);
    }

    /// <summary>Reads until <paramref name="expected"/> bytes came or the peer closed; returns what came.</summary>
    private async Task<byte[]> ReceiveAsync(Socket socket, int expected)
    {
        var received = new MemoryStream();
        var buffer = new byte[256 * 1024];
        while (received.Length < expected)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _timeout.Token);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }
}
