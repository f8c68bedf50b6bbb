namespace Dragonfly.Dfget.Engine;

/// <summary>Why a download went (or wanted to go) to the origin; printed as <c>reason:N</c>, +1000 when refused.</summary>
public enum BackSourceReason
{
    None = 0,
    RegisterFail = 1,
    Md5NotMatch = 2,
    DownloadError = 3,
    NoSpace = 4,
    InitError = 5,
    WriteError = 6,
    HostSysError = 7,
    NodeEmpty = 8,
    SourceError = 10,
    UserSpecified = 100,

    /// <summary>Added to a reason when back-source was refused (<c>--notbs</c>, timeout, no space).</summary>
    ForbiddenOffset = 1000,
}

/// <summary>dfget's failure codes; the process exit status is <c>code &amp; 0xFF</c>.</summary>
public enum DfgetErrorCode
{
    None = 0,
    LaunchServer = 1100,
    Prepare = 1101,
    GetUser = 1102,
    Register = 1103,
    Download = 1104,
}

/// <summary>
/// Where the bytes of a download came from: bytes transferred, each counted once per transfer. They add up to more than
/// the file's length when P2P fetched pieces on disk again (<see cref="Refetched"/>) or gave up midway for the origin;
/// progress toward completion is counted apart and never passes the length.
/// </summary>
public sealed record ByteAccounting
{
    public long FromPeers { get; init; }

    public long FromSupernode { get; init; }

    public long FromSource { get; init; }

    /// <summary>
    /// Of <see cref="FromPeers"/> and <see cref="FromSupernode"/>, the bytes fetched again over ranges already on disk: after
    /// a migration to a supernode that cuts the file in pieces of another size, its pieces are fetched whole.
    /// </summary>
    public long Refetched { get; init; }

    /// <summary>Pieces downloaded per uploader (<c>ip:port</c>), supernode included.</summary>
    public IReadOnlyDictionary<string, int> PiecesPerPeer { get; init; } = new Dictionary<string, int>();

    public static ByteAccounting Empty { get; } = new();
}

/// <summary>The outcome of one download, as a value.</summary>
public sealed record DownloadResult
{
    public bool Success { get; init; }

    /// <summary>The reason number as printed (<c>reason:N</c>), including +1000 when back-source was refused.</summary>
    public int BackSourceReason { get; init; }

    public DfgetErrorCode ErrorCode { get; init; }

    /// <summary>Process exit status: 0 on success, else the error code truncated to a byte (76..80).</summary>
    public int ExitCode => Success ? 0 : (int)ErrorCode & 0xFF;

    public string Message { get; init; } = string.Empty;

    /// <summary>Length of the downloaded file (source bytes); -1 when unknown.</summary>
    public long Length { get; init; } = -1;

    public TimeSpan Duration { get; init; }

    /// <summary>The task id assigned by the supernode, when registration succeeded.</summary>
    public string? TaskId { get; init; }

    /// <summary>The supernode (<c>host:port</c>) the download was registered with last, if any.</summary>
    public string? Supernode { get; init; }

    /// <summary>The sign of this run (<c>&lt;pid&gt;-&lt;seconds.millis&gt;</c>), part of the cid and the task file name.</summary>
    public string? Sign { get; init; }

    /// <summary>The local IP the download advertised (null when no supernode was involved).</summary>
    public string? LocalIp { get; init; }

    public ByteAccounting Bytes { get; init; } = ByteAccounting.Empty;

    /// <summary>True when the file came from the origin.</summary>
    public bool FromSource => Bytes.FromSource > 0 || BackSourceReason is > 0 and < 1000;
}
