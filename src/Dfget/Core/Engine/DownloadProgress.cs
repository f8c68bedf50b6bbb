namespace Dragonfly.Dfget.Engine;

/// <summary>What a progress report is about.</summary>
public enum DownloadProgressKind
{
    /// <summary>
    /// The task is registered: <see cref="DownloadProgress.TotalLength"/> (may be -1), piece size, the file pieces go to, and
    /// <see cref="DownloadProgress.Node"/> / <see cref="DownloadProgress.LocalIp"/> (for "client:&lt;ip&gt; connected to node:&lt;node&gt;").
    /// </summary>
    Registered,

    /// <summary>
    /// One piece's content is on disk at <see cref="DownloadProgress.Offset"/>; <see cref="DownloadProgress.CompletedBytes"/>
    /// are the distinct bytes of the file on disk so far (a piece fetched again adds nothing), never more than its length.
    /// Reports of concurrent pieces may arrive out of order.
    /// </summary>
    PieceCompleted,

    /// <summary>P2P gave up; the file now comes from the origin (written in order into <see cref="DownloadProgress.FilePath"/>).</summary>
    BackSource,

    /// <summary>Bytes arrived from the origin, in order, up to <see cref="DownloadProgress.CompletedBytes"/>.</summary>
    SourceBytes,
}

/// <summary>
/// A progress report. Reported synchronously from the download's tasks (keep handlers quick and thread safe);
/// <see cref="Streaming.StreamingDownload"/> builds on it.
/// </summary>
public readonly record struct DownloadProgress(
    DownloadProgressKind Kind,
    long TotalLength,
    long CompletedBytes,
    int PieceNum = -1,
    int PieceSize = 0,
    long Offset = 0,
    int Length = 0,
    string? FilePath = null,
    string? Node = null,
    string? LocalIp = null,
    string? Sign = null);
