using CommandLine;
using CommandLine.Text;

namespace Dragonfly.Dfget.App.Cli;

/// <summary>What the command line asks for.</summary>
public abstract record ParsedCommand
{
    public sealed record Download(DownloadInvocation Invocation) : ParsedCommand;

    public sealed record Server(ServerInvocation Invocation) : ParsedCommand;

    public sealed record Version : ParsedCommand;

    /// <summary>Help was asked for; print <see cref="Text"/> and exit 0.</summary>
    public sealed record Help(string Text) : ParsedCommand;

    /// <summary>Bad flags or values; print <see cref="Message"/> to stderr and exit <see cref="ExitCode"/>.</summary>
    public sealed record Invalid(string Message) : ParsedCommand
    {
        public const int ExitCode = 2;
    }
}

/// <summary>
/// The dfget command line (CommandLineParser verbs): the download is the default verb, plus <c>server</c> and
/// <c>version</c>. Repeated flags (<c>-n</c>, <c>--header</c>, <c>--cacerts</c>) accumulate; Go's <c>--flag=true</c> works.
/// </summary>
public static class DfgetCommandLine
{
    private const string Usage = "usage: dfget [download] -u <url> [-o <output>] [flags] | dfget server [flags] | dfget version";

    public static ParsedCommand Parse(IEnumerable<string> args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        var list = args.ToList();
        if (list.Count > 0 && list[0] is not ("server" or "version" or "help") && list.Any(a => a is "--help" or "-h"))
        {
            // "dfget --help" describes the download flags (the default verb).
            using var single = new Parser(s => s.HelpWriter = null);
            return new ParsedCommand.Help(BuildHelp(single.ParseArguments<DownloadVerb>(["--help"]), Usage, verbsIndex: false));
        }

        var normalized = ArgumentNormalizer.Normalize(list);
        try
        {
            // The usual download skips CommandLineParser's reflection (start-up time); anything unusual goes through it.
            if (DownloadFlagsFastPath.TryParse(normalized) is { } download)
            {
                return new ParsedCommand.Download(DownloadRequestBinder.Bind(download, context));
            }

            // So does the uploader as a download launches it: its start-up is on the first download's critical path.
            if (ServerFlagsFastPath.TryParse(normalized) is { } server)
            {
                return new ParsedCommand.Server(ServerOptionsBinder.Bind(server, context));
            }

            using var parser = CreateParser();
            var result = parser.ParseArguments<DownloadVerb, ServerVerb, VersionVerb>(normalized);
            return result.MapResult(
                (DownloadVerb d) => (ParsedCommand)new ParsedCommand.Download(DownloadRequestBinder.Bind(d, context)),
                (ServerVerb s) => new ParsedCommand.Server(ServerOptionsBinder.Bind(s, context)),
                (VersionVerb _) => new ParsedCommand.Version(),
                errors => FromErrors(result, errors));
        }
        catch (CliUsageException e)
        {
            return new ParsedCommand.Invalid(e.Message);
        }
    }

    /// <summary>CommandLineParser's reading of download arguments (after <see cref="ArgumentNormalizer"/>); null when it reports errors.</summary>
    internal static DownloadVerb? ParseDownloadWithCommandLineParser(IEnumerable<string> normalized)
    {
        using var parser = CreateParser();
        return parser.ParseArguments<DownloadVerb, ServerVerb, VersionVerb>(normalized).MapResult(
            (DownloadVerb d) => d,
            (ServerVerb _) => null,
            (VersionVerb _) => null,
            _ => (DownloadVerb?)null);
    }

    /// <summary>CommandLineParser's reading of server arguments (after <see cref="ArgumentNormalizer"/>); null when it reports errors.</summary>
    internal static ServerVerb? ParseServerWithCommandLineParser(IEnumerable<string> normalized)
    {
        using var parser = CreateParser();
        return parser.ParseArguments<DownloadVerb, ServerVerb, VersionVerb>(normalized).MapResult(
            (DownloadVerb _) => null,
            (ServerVerb s) => s,
            (VersionVerb _) => null,
            _ => (ServerVerb?)null);
    }

    private static Parser CreateParser() => new(settings =>
    {
        settings.AllowMultiInstance = true;
        settings.CaseSensitive = true;
        settings.HelpWriter = null;
        settings.AutoVersion = false;
        settings.EnableDashDash = true;
    });

    private static ParsedCommand FromErrors(ParserResult<object> result, IEnumerable<Error> errors)
    {
        var list = errors.ToList();
        if (list.Any(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.HelpVerbRequestedError or ErrorType.VersionRequestedError))
        {
            // "dfget --help" describes the download flags (the default verb); "dfget help" lists the verbs.
            var verbHelp = list.OfType<HelpVerbRequestedError>().FirstOrDefault();
            if (verbHelp is null || verbHelp.Type == typeof(DownloadVerb))
            {
                using var single = new Parser(s => s.HelpWriter = null);
                var download = single.ParseArguments<DownloadVerb>(["--help"]);
                return new ParsedCommand.Help(BuildHelp(download, Usage, verbsIndex: false));
            }

            return new ParsedCommand.Help(BuildHelp(result, null, verbsIndex: verbHelp.Type is null));
        }

        var sentences = SentenceBuilder.Create();
        var text = HelpText.RenderParsingErrorsText(result, sentences.FormatError, sentences.FormatMutuallyExclusiveSetErrors, 0).Trim();
        return new ParsedCommand.Invalid(string.IsNullOrEmpty(text) ? "invalid arguments (see dfget --help)" : text + " (see dfget --help)");
    }

    private static string BuildHelp<T>(ParserResult<T> result, string? usage, bool verbsIndex)
    {
        var help = HelpText.AutoBuild(result, h =>
        {
            h.Heading = "dfget " + Engine.DfgetVersion.Current + ": the Dragonfly P2P download client";
            h.Copyright = string.Empty;
            h.AddDashesToOption = true;
            h.AutoVersion = false;
            if (usage is not null)
            {
                h.AddPreOptionsLine(usage);
            }

            return h;
        }, e => e, verbsIndex: verbsIndex);
        return help.ToString();
    }
}
