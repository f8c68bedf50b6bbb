namespace Dragonfly.Dfget.WorkHome;

/// <summary>
/// The layout of a dfget work home (<c>~/.small-dragonfly</c> by default): <c>meta/host.meta</c> (the uploader port),
/// <c>data/&lt;taskFileName&gt;.service</c> (raw downloaded bytes served to peers), <c>logs/</c>.
/// </summary>
public sealed record WorkHomeLayout(string Root)
{
    public string MetaDir => Path.Combine(Root, "meta");

    public string HostMetaPath => Path.Combine(MetaDir, "host.meta");

    public string DataDir => Path.Combine(Root, "data");

    public string LogsDir => Path.Combine(Root, "logs");

    /// <summary>The raw file the uploader serves for a task: <c>data/&lt;taskFileName&gt;.service</c>.</summary>
    public string ServiceFilePath(string taskFileName) => Path.Combine(DataDir, taskFileName + ".service");

    public void EnsureCreated()
    {
        Directory.CreateDirectory(MetaDir);
        Directory.CreateDirectory(DataDir);
        Directory.CreateDirectory(LogsDir);
    }
}
