using System.IO.Pipelines;
using Dragonfly.Dfget.Engine;

namespace Dragonfly.Dfget.Streaming;

/// <summary>Options of a streamed download.</summary>
public sealed record StreamingOptions
{
    /// <summary>Expected sha256 of the whole content (hex, optionally <c>sha256:</c>-prefixed, as in a registry blob digest). Checked before completion.</summary>
    public string? Sha256 { get; init; }
}

/// <summary>
/// A download whose bytes can be consumed in order while it is still running (dfdaemon serves registry blobs this way).
/// </summary>
public interface IBlobStream : IAsyncDisposable
{
    /// <summary>The content length once known (registration, or the origin's Content-Length); -1 when the origin does not say.</summary>
    Task<long> Length { get; }

    /// <summary>The engine's result.</summary>
    Task<DownloadResult> Completion { get; }

    /// <summary>
    /// Writes the whole content to <paramref name="destination"/> in order, as contiguous pieces complete. Throws
    /// <see cref="BlobStreamException"/> when the download fails or the sha256 does not match (the caller must then abort its
    /// response: the bytes already written are not a complete blob).
    /// </summary>
    Task CopyToAsync(Stream destination, CancellationToken cancellationToken);

    /// <summary>Like <see cref="CopyToAsync(Stream, CancellationToken)"/>, for a pipe (e.g. <c>HttpResponse.BodyWriter</c>). Does not complete the writer.</summary>
    Task CopyToAsync(PipeWriter destination, CancellationToken cancellationToken);
}

/// <summary>Starts streamed downloads.</summary>
public interface IBlobStreamer
{
    /// <summary>Starts downloading; the download runs until it finishes or <paramref name="cancellationToken"/> fires (or the stream is disposed).</summary>
    IBlobStream Start(DownloadRequest request, StreamingOptions options, CancellationToken cancellationToken);
}

/// <summary>A streamed download failed, or its content did not match the expected digest.</summary>
public sealed class BlobStreamException : Exception
{
    public BlobStreamException()
    {
    }

    public BlobStreamException(string message)
        : base(message)
    {
    }

    public BlobStreamException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public BlobStreamException(string message, DownloadResult? result)
        : base(message) => Result = result;

    public DownloadResult? Result { get; }
}

/// <inheritdoc />
public sealed class BlobStreamer(IDownloadEngine engine) : IBlobStreamer
{
    public IBlobStream Start(DownloadRequest request, StreamingOptions options, CancellationToken cancellationToken) =>
        StreamingDownload.Start(engine, request, options, cancellationToken);
}
