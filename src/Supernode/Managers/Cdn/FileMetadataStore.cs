using System.Text.Json;
using Dragonfly.Common.Ids;
using Dragonfly.Supernode.Storage;

namespace Dragonfly.Supernode.Managers.Cdn;

/// <summary>Reads and atomically writes a task's <c>.meta</c> file.</summary>
public sealed class FileMetadataStore
{
    public const string Suffix = ".meta";

    private readonly IPieceStore _store;

    public FileMetadataStore(IPieceStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>The task's metadata, or null when the file is missing or not valid JSON.</summary>
    public async Task<CdnFileMetadata?> ReadAsync(TaskId taskId, CancellationToken cancellationToken)
    {
        var text = await _store.ReadTextAsync(taskId, Suffix, cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(text, CdnJsonContext.Default.CdnFileMetadata);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public Task WriteAsync(TaskId taskId, CdnFileMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var json = JsonSerializer.Serialize(metadata, CdnJsonContext.Default.CdnFileMetadata);
        return _store.WriteTextAsync(taskId, Suffix, json, cancellationToken);
    }
}
