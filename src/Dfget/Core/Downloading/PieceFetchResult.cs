namespace Dragonfly.Dfget.Downloading;

/// <summary>The outcome of fetching one piece.</summary>
public abstract record PieceFetchResult
{
    private PieceFetchResult()
    {
    }

    /// <summary>
    /// The piece's content (<paramref name="ContentLength"/> bytes) is on disk at <paramref name="ContentOffset"/>.
    /// <paramref name="Unchecked"/>: a wrapped piece that came without a piece md5, so only the file's md5 can vouch for it
    /// (a piece from the origin needs none: it is the source).
    /// </summary>
    public sealed record Success(long ContentOffset, int ContentLength, long WireBytes, bool Unchecked = false) : PieceFetchResult;

    /// <summary>The uploader answered 404.</summary>
    public sealed record NotFound(string Message) : PieceFetchResult;

    /// <summary>The wrapped body's md5 differs from the scheduled piece md5.</summary>
    public sealed record Md5Mismatch(string RealMd5, string Message) : PieceFetchResult;

    /// <summary>Any other failure (HTTP status, timeout, truncated or malformed body); the piece is re-queued.</summary>
    public sealed record Failed(string Message) : PieceFetchResult;

    /// <summary>Writing to the local file failed; P2P cannot continue.</summary>
    public sealed record WriteFailed(bool NoSpace, string Message) : PieceFetchResult;
}
