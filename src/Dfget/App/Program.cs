using System.Runtime.InteropServices;
using Dragonfly.Dfget.App.Cli;
using Dragonfly.Dfget.App.Commands;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var command = DfgetCommandLine.Parse(args, CliContext.FromEnvironment());

// A download told to stop by SIGTERM (kill, systemd, a container stop) or SIGHUP (its terminal went away) cleans up as
// after Ctrl-C: its temporary and .service files are removed, so nothing half-written is left for a user or a peer to
// take for complete. A second signal ends the process at once.
using var terminated = command is ParsedCommand.Download ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop) : null;
using var hungUp = command is ParsedCommand.Download ? PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop) : null;

return command switch
{
    ParsedCommand.Download d => await DownloadCommand.RunAsync(d.Invocation, Console.Out, TimeProvider.System, cancel.Token),
    ParsedCommand.Server s => await ServerCommand.RunAsync(s.Invocation, Console.Out, Console.Error),
    ParsedCommand.Version => Print(Console.Out, $"dfget version {Dragonfly.Dfget.Engine.DfgetVersion.Current}", 0),
    ParsedCommand.Help h => Print(Console.Out, h.Text, 0),
    ParsedCommand.Invalid i => Print(Console.Error, "dfget: " + i.Message, ParsedCommand.Invalid.ExitCode),
    _ => 2,
};

void Stop(PosixSignalContext context)
{
    context.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
}

static int Print(TextWriter writer, string text, int exitCode)
{
    writer.WriteLine(text);
    return exitCode;
}
