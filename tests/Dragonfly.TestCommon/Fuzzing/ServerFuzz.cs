using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>
/// Hostile requests on real loopback connections to one server port, many at once: each is sent whole, trickled, with
/// its write side shut or reset (<see cref="SendMode"/>), and its answer must pass <see cref="Judge"/>: a whole request
/// gets an answer (a server that sat on one would be hung), no answer carries a secret from outside the server's
/// directories, and when the server keeps the connection open after answering a whole request, a valid request on it
/// gets its valid answer (the server did not lose its place in the byte stream). Afterwards the server still answers a
/// valid request on a new connection (<see cref="CheckStillServesAsync"/>), and a crowd of clients that never finish
/// their heads does not keep it from answering another (<see cref="SlowClientsAsync"/>).
/// </summary>
public sealed class ServerFuzz
{
    public required int Port { get; init; }

    public required HttpRequestFuzz Requests { get; init; }

    /// <summary>A valid request, sent after the barrage and after an answered whole request on the same connection.</summary>
    public required byte[] Valid { get; init; }

    /// <summary>Whether an answer is the right one to <see cref="Valid"/>.</summary>
    public required Func<RawAnswer, bool> IsValidAnswer { get; init; }

    /// <summary>The problem with an answer to a hostile request (its bytes given), or null when it is acceptable.</summary>
    public required Func<byte[], RawAnswer, string?> Judge { get; init; }

    /// <summary>Byte strings that must never appear in an answer (the content of files outside the served directories).</summary>
    public IReadOnlyList<byte[]> Secrets { get; init; } = [];

    /// <summary>Connections per case, sent at once.</summary>
    public int Parallel { get; init; } = 24;

    /// <summary>How long an incomplete request is given to be answered before it counts as waiting for more.</summary>
    public TimeSpan Wait { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a whole request is given to be answered before the server counts as hung.</summary>
    public TimeSpan CompleteWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="ciCases"/> cases of <see cref="Parallel"/> hostile connections each.</summary>
    public Task RunAsync(int ciCases, [CallerFilePath] string file = "", [CallerMemberName] string member = "") =>
        Fuzzer.RunAsync(ciCases, async c =>
        {
            var sends = Enumerable.Range(0, Parallel).Select(_ => (Request: Requests.NextRequest(c.Random), Mode: Mode(c.Random), Seed: c.Random.Next())).ToArray();
            c.Input = string.Join("\n    ", sends.Select((s, i) => $"[{i}] {s.Mode}{(s.Request.Complete ? " whole" : string.Empty)}: {Shorten(FuzzCase.Escape(s.Request.Bytes))}"));
            var answers = await Task.WhenAll(sends.Select(s => RawHttpExchange.SendAsync(
                Port, s.Request.Bytes, s.Mode, s.Request.Complete ? CompleteWait : Wait, new Random(s.Seed), FollowUp(s.Request), c.CancellationToken)));

            var problems = new List<string>();
            for (var i = 0; i < sends.Length; i++)
            {
                var (request, mode, _) = sends[i];
                var (first, followUp) = answers[i];
                if (Problem(request, mode, first, followUp) is { } problem)
                {
                    problems.Add($"[{i}] {problem}; answer {first}; request {sends[i].Mode}: {Shorten(FuzzCase.Escape(request.Bytes))}");
                }
            }

            if (problems.Count > 0)
            {
                throw new InvalidOperationException(string.Join("\n    ", problems));
            }
        }, TimeSpan.FromSeconds(60), file, member);

    /// <summary>Sends <see cref="Valid"/> on a new connection and asserts its answer.</summary>
    public async Task CheckStillServesAsync(CancellationToken cancellationToken)
    {
        var (answer, _) = await RawHttpExchange.SendAsync(Port, Valid, SendMode.Whole, CompleteWait, new Random(1), null, cancellationToken);
        if (!IsValidAnswer(answer))
        {
            throw new InvalidOperationException($"after the hostile requests, a valid request got {answer} (port {Port})");
        }
    }

    /// <summary>
    /// Opens <paramref name="count"/> connections that send the start of a head and stop (slowloris), checks that a valid
    /// request is still answered, then closes them.
    /// </summary>
    public async Task SlowClientsAsync(int count, CancellationToken cancellationToken)
    {
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cancellationToken);
                var start = Encoding.ASCII.GetBytes(i % 3 == 0 ? "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " : i % 3 == 1 ? "GE" : "\r\n");
                await socket.SendAsync(start, cancellationToken);
            }

            await CheckStillServesAsync(cancellationToken);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private string? Problem(FuzzRequest request, SendMode mode, RawAnswer first, RawAnswer? followUp)
    {
        if (request.Complete && mode is SendMode.Whole or SendMode.Trickle && first is { Status: null, Closed: false })
        {
            return $"no answer to a whole request within {CompleteWait.TotalSeconds:0} s";
        }

        if (first.Status is not null && Judge(request.Bytes, first) is { } judged)
        {
            return judged;
        }

        foreach (var secret in Secrets)
        {
            if (first.Body.AsSpan().IndexOf(secret) >= 0)
            {
                return "the answer carries the content of a file outside the served directories";
            }
        }

        if (followUp is { Status: not null } next && !IsValidAnswer(next))
        {
            return $"a valid request after it on the same connection got {next}";
        }

        return null;
    }

    /// <summary>The valid request to send after a whole one on its connection; none after a CONNECT, whose connection
    /// becomes a tunnel.</summary>
    private byte[]? FollowUp(FuzzRequest request) =>
        request.Complete && !Encoding.Latin1.GetString(request.Bytes).TrimStart('\r', '\n').StartsWith("CONNECT ", StringComparison.Ordinal) ? Valid : null;

    private static SendMode Mode(Random random) => random.Next(10) switch
    {
        0 => SendMode.Trickle,
        1 => SendMode.HalfClose,
        2 => SendMode.Reset,
        _ => SendMode.Whole,
    };

    private static string Shorten(string text) => text.Length <= 600 ? text : text[..600] + $"… ({text.Length} characters)";
}
