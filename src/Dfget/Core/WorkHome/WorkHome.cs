namespace Dragonfly.Dfget.WorkHome;

/// <summary>
/// The layout of a dfget work home (<c>~/.small-dragonfly</c> by default): <c>meta/host.meta</c> (the uploader port),
/// <c>data/&lt;taskFileName&gt;.service</c> (raw downloaded bytes served to peers), <c>logs/</c>.
/// </summary>
public sealed record WorkHomeLayout(string Root)
{
    /// <summary>The directory name of the default work home under the user's (passwd) home directory.</summary>
    public const string DefaultDirectoryName = ".small-dragonfly";

    public string MetaDir => Path.Combine(Root, "meta");

    public string HostMetaPath => Path.Combine(MetaDir, "host.meta");

    /// <summary>The lock file that makes one uploader own this work home (original bug #1378).</summary>
    public string UploaderLockPath => Path.Combine(MetaDir, "uploader.lock");

    public string DataDir => Path.Combine(Root, "data");

    public string LogsDir => Path.Combine(Root, "logs");

    public string ClientLogPath => Path.Combine(LogsDir, "dfclient.log");

    public string ServerLogPath => Path.Combine(LogsDir, "dfserver.log");

    /// <summary>The raw file the uploader serves for a task: <c>data/&lt;taskFileName&gt;.service</c>.</summary>
    public string ServiceFilePath(string taskFileName) => Path.Combine(DataDir, taskFileName + ".service");

    /// <summary>The default work home: <c>&lt;passwd home&gt;/.small-dragonfly</c>.</summary>
    public static WorkHomeLayout Default() => new(Path.Combine(UserHome.Resolve(), DefaultDirectoryName));

    public void EnsureCreated()
    {
        Directory.CreateDirectory(MetaDir);
        Directory.CreateDirectory(DataDir);
        Directory.CreateDirectory(LogsDir);
    }
}
