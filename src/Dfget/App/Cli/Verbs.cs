using CommandLine;

namespace Dragonfly.Dfget.App.Cli;

/// <summary>The download (default verb): every flag of the original dfget, as raw text validated by <see cref="DownloadRequestBinder"/>.</summary>
[Verb("download", isDefault: true, HelpText = "Download a file through the Dragonfly P2P network (the default command).")]
public sealed class DownloadVerb
{
    [Option('u', "url", HelpText = "URL of the file to download (http or https).")]
    public string? Url { get; set; }

    [Option('o', "output", HelpText = "Destination path; default: the text after the last '/' of the URL, in the current directory.")]
    public string? Output { get; set; }

    [Option('m', "md5", HelpText = "Expected md5 of the file; part of the task id.")]
    public string? Md5 { get; set; }

    [Option('i', "identifier", HelpText = "Extra task key (ignored when --md5 is given).")]
    public string? Identifier { get; set; }

    [Option('f', "filter", HelpText = "Query keys to drop from the task URL, separated by '&' (e.g. 'sign&expires').")]
    public string? Filter { get; set; }

    [Option("header", HelpText = "Request header 'Key: value' for the source; repeatable.")]
    public IEnumerable<string> Headers { get; set; } = [];

    [Option('n', "node", HelpText = "Supernodes host[:port][=weight], comma-separated or repeated; default: config, else 127.0.0.1:8002.")]
    public IEnumerable<string> Nodes { get; set; } = [];

    [Option('s', "locallimit", HelpText = "Download rate limit of this task, e.g. 20M, 512K; default: config, else 20MB.")]
    public string? LocalLimit { get; set; }

    [Option("minrate", HelpText = "Minimal rate used to compute the timeout; default: config, else 64KB.")]
    public string? MinRate { get; set; }

    [Option("totallimit", HelpText = "Host-wide upload limit of the uploader; default: config, else 0 (off).")]
    public string? TotalLimit { get; set; }

    [Option('e', "timeout", HelpText = "Whole-download timeout (Go duration: 30s, 5m, 1ms); default: length/minrate + 10s.")]
    public string? Timeout { get; set; }

    [Option('p', "pattern", HelpText = "p2p (default), cdn (download only, serve nothing) or source (straight from the origin).")]
    public string? Pattern { get; set; }

    [Option("notbs", HelpText = "Never fall back to downloading from the source.")]
    public bool NotBackSource { get; set; }

    [Option("callsystem", HelpText = "Name of the calling system (a tag for statistics).")]
    public string? CallSystem { get; set; }

    [Option("cacerts", HelpText = "PEM CA certificate files for the source's TLS; repeatable.")]
    public IEnumerable<string> CaCerts { get; set; } = [];

    [Option("insecure", HelpText = "Skip TLS verification of the source.")]
    public bool Insecure { get; set; }

    [Option("dfdaemon", HelpText = "Marks the call as coming from dfdaemon.")]
    public bool Dfdaemon { get; set; }

    [Option('b', "showbar", HelpText = "Show a progress bar with rate and ETA.")]
    public bool ShowBar { get; set; }

    [Option("console", HelpText = "Also write the log to the console.")]
    public bool Console { get; set; }

    [Option("verbose", HelpText = "Verbose (debug) logging.")]
    public bool Verbose { get; set; }

    [Option("home", HelpText = "Work home; default: config, else ~/.small-dragonfly of the passwd home.")]
    public string? Home { get; set; }

    [Option("ip", HelpText = "IP the uploader binds and advertises; default: the local IP towards the supernode.")]
    public string? Ip { get; set; }

    [Option("port", HelpText = "Uploader port; default 0 (chosen automatically).")]
    public string? Port { get; set; }

    [Option("expiretime", HelpText = "Uploader: delete finished files not accessed for this long (default 3m).")]
    public string? ExpireTime { get; set; }

    [Option("alivetime", HelpText = "Uploader: stop after this long without requests (default 5m).")]
    public string? AliveTime { get; set; }

    [Option("clientqueue", HelpText = "Size of the piece writer queue; default: config, else 6.")]
    public string? ClientQueue { get; set; }
}

/// <summary><c>dfget server</c>: the uploader process.</summary>
[Verb("server", HelpText = "Run the uploader (peer server) that serves downloaded pieces to other peers.")]
public sealed class ServerVerb
{
    [Option("ip", HelpText = "IP to bind; default 0.0.0.0.")]
    public string? Ip { get; set; }

    [Option("port", HelpText = "Port to bind; 0 = 15000 + (unix seconds / 300 mod 50000) + attempt.")]
    public string? Port { get; set; }

    [Option("meta", HelpText = "host.meta file (or its directory) to record the port in; default <home>/meta/host.meta.")]
    public string? Meta { get; set; }

    [Option("data", HelpText = "Data dir whose .service files are served; default <home>/data.")]
    public string? Data { get; set; }

    [Option("home", HelpText = "Work home; default ~/.small-dragonfly of the passwd home.")]
    public string? Home { get; set; }

    [Option("expiretime", HelpText = "Delete finished files not accessed for this long (default 3m).")]
    public string? ExpireTime { get; set; }

    [Option("alivetime", HelpText = "Stop after this long without requests (default 5m).")]
    public string? AliveTime { get; set; }

    [Option("totallimit", HelpText = "Initial host-wide upload limit (each /check/ may change it); default 0 (off).")]
    public string? TotalLimit { get; set; }

    [Option("verbose", HelpText = "Verbose (debug) logging.")]
    public bool Verbose { get; set; }
}

[Verb("version", HelpText = "Print the version.")]
public sealed class VersionVerb;
