using Dragonfly.Dfget.App.Cli;
using Dragonfly.Dfget.App.Commands;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

return DfgetCommandLine.Parse(args, CliContext.FromEnvironment()) switch
{
    ParsedCommand.Download d => await DownloadCommand.RunAsync(d.Invocation, Console.Out, TimeProvider.System, cancel.Token),
    ParsedCommand.Server s => await ServerCommand.RunAsync(s.Invocation, Console.Out, Console.Error),
    ParsedCommand.Version => Print(Console.Out, $"dfget version {Dragonfly.Dfget.Engine.DfgetVersion.Current}", 0),
    ParsedCommand.Help h => Print(Console.Out, h.Text, 0),
    ParsedCommand.Invalid i => Print(Console.Error, "dfget: " + i.Message, ParsedCommand.Invalid.ExitCode),
    _ => 2,
};

static int Print(TextWriter writer, string text, int exitCode)
{
    writer.WriteLine(text);
    return exitCode;
}
