using System.Text.Json;

namespace Dragonfly.Common.Api.Client;

// The hand-written half of the NSwag-generated SupernodeClient (obj/.../SupernodeClient.g.cs, built from
// apis/swagger.yml): it plugs the wire JSON settings into the client and takes the base URL from the injected
// HttpClient, so `new SupernodeClient(new HttpClient { BaseAddress = new("http://supernode:8002/") })` works.
public partial class SupernodeClient
{
    static partial void UpdateJsonSerializerSettings(JsonSerializerOptions settings) => DragonflyJson.Apply(settings);

    /// <summary>
    /// The JSON settings every client instance uses (the generated code's shared instance): their metadata caches are
    /// built once per process, so code that prepares them ahead of the first request must use these.
    /// </summary>
    public static JsonSerializerOptions SharedJsonSettings => _settings.Value;

    partial void Initialize() => BaseUrl = _httpClient.BaseAddress?.AbsoluteUri ?? string.Empty;
}
