using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Dragonfly.Dfget.Registration;

/// <summary>Small helpers shared by the two supernode API clients.</summary>
internal static class SupernodeHttp
{
    public const int TransportError = (int)Common.Api.Legacy.LegacyCode.HttpError;

    public static async Task<(HttpStatusCode Status, T? Body, string? Text)> SendAsync<T>(
        HttpClient client, HttpRequestMessage request, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode || string.IsNullOrWhiteSpace(text))
        {
            return (response.StatusCode, default, text);
        }

        try
        {
            return (response.StatusCode, JsonSerializer.Deserialize(text, typeInfo), text);
        }
        catch (JsonException)
        {
            return (response.StatusCode, default, text);
        }
    }

    public static HttpRequestMessage Json<T>(HttpMethod method, Uri uri, T body, JsonTypeInfo<T> typeInfo) =>
        new(method, uri) { Content = JsonContent.Create(body, typeInfo) };

    /// <summary>A legacy query string: <c>k=v&amp;...</c> with values NOT escaped, as the original dfget sends them.</summary>
    public static string RawQuery(params (string Key, string? Value)[] pairs) =>
        string.Join('&', pairs.Select(p => p.Key + "=" + (p.Value ?? string.Empty)));

    public static string Describe(Exception e) => e is TaskCanceledException ? "timeout" : e.Message;
}
