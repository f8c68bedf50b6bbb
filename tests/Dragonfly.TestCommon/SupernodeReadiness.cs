using System.Globalization;

namespace Dragonfly.TestCommon;

/// <summary>Waits for a published supernode started by a test to serve: its own <c>/_ping</c>, not another process's.</summary>
public static class SupernodeReadiness
{
    /// <summary>
    /// Returns once <c>/_ping</c> on <paramref name="port"/> answers OK and, when <paramref name="host"/> is given, that
    /// supernode has said it listens on the port: another process answering on a port this one failed to bind does not
    /// count. Throws <see cref="SupernodePortTakenException"/> when the supernode exited because a port was taken, and
    /// <see cref="InvalidOperationException"/> when it exited for another reason.
    /// </summary>
    public static async Task WaitAsync(int port, ProcessHost? host, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var listening = $"Supernode API listening on port {port.ToString(CultureInfo.InvariantCulture)},";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (host is { HasExited: true })
            {
                var output = host.Output;
                var message = $"supernode exited ({host.ExitCode}):\n{output}";
                throw output.Contains("address already in use", StringComparison.Ordinal)
                    ? new SupernodePortTakenException(message)
                    : new InvalidOperationException(message);
            }

            try
            {
                var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/_ping"), cancellationToken);
                if (text.Trim() == "OK" && (host is null || host.Output.Contains(listening, StringComparison.Ordinal)))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}

/// <summary>The supernode could not bind a port it was given: something else took it after it was found free.</summary>
public sealed class SupernodePortTakenException(string message) : InvalidOperationException(message);
