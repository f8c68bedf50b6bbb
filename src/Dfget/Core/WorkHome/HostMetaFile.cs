using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dragonfly.Dfget.WorkHome;

/// <summary>
/// <c>meta/host.meta</c>: JSON <c>{"servicePort":N}</c>, the port of the uploader owning the work home (0 once it stopped).
/// Written atomically (temp file + rename) so a reader never sees half a file.
/// </summary>
public sealed class HostMetaFile
{
    public HostMetaFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    public string Path { get; }

    /// <summary>The recorded port, or 0 when the file is missing, unreadable or holds no valid port.</summary>
    public async Task<int> ReadPortAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
            var meta = await JsonSerializer.DeserializeAsync(stream, HostMetaJsonContext.Default.HostMeta, cancellationToken).ConfigureAwait(false);
            return meta is { ServicePort: > 0 and <= 65535 } ? meta.ServicePort : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return 0;
        }
    }

    /// <summary>Records <paramref name="port"/>, creating the meta directory when it is missing.</summary>
    public Task WritePortAsync(int port, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Directory.CreateDirectory(MetaDirectory);
        return WriteAsync(port, cancellationToken);
    }

    /// <summary>
    /// Records port 0 if the file names <paramref name="port"/> (an uploader on its way out); true when it did. Never
    /// creates anything: when the work home is deleted meanwhile, even between the read and the write, it stays deleted.
    /// </summary>
    public Task<bool> ClearIfPortAsync(int port, CancellationToken cancellationToken) =>
        ClearIfPortAsync(port, afterRead: null, cancellationToken);

    /// <summary><see cref="ClearIfPortAsync(int, CancellationToken)"/>, running <paramref name="afterRead"/> between the read and the write (tests).</summary>
    internal async Task<bool> ClearIfPortAsync(int port, Action? afterRead, CancellationToken cancellationToken)
    {
        if (port == 0 || await ReadPortAsync(cancellationToken).ConfigureAwait(false) != port)
        {
            return false;
        }

        afterRead?.Invoke();
        try
        {
            await WriteAsync(0, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    private string MetaDirectory => System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;

    /// <summary>Writes the file through a temp file in its directory, which must exist.</summary>
    private async Task WriteAsync(int port, CancellationToken cancellationToken)
    {
        var temp = System.IO.Path.Combine(MetaDirectory, $".host.meta.{Guid.NewGuid():N}.tmp");
        try
        {
            // The fixed shape by hand: the serializer's first use (writer, encoder tables, async plumbing) costs the uploader
            // ~13 ms of JIT before it can print its port, which the first download of a work home waits for.
            var json = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"servicePort\":{port}}}"));
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(json, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, Path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}

internal sealed record HostMeta([property: JsonPropertyName("servicePort")] int ServicePort);

[JsonSerializable(typeof(HostMeta))]
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
internal sealed partial class HostMetaJsonContext : JsonSerializerContext;
