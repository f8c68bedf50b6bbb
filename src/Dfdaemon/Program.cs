using Dragonfly.Dfdaemon.Cli;

// dfdaemon: the registry mirror / HTTP(S) proxy that downloads image layers through Dragonfly P2P.
using var shutdown = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    shutdown.Cancel();
};

return await DfdaemonProgram.RunAsync(args, Console.Out, Console.Error, shutdown.Token);
