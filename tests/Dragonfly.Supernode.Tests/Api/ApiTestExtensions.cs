using System.Net;
using System.Text;
using System.Text.Json;

namespace Dragonfly.Supernode.Tests.Api;

internal static class ApiTestExtensions
{
    public static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<(HttpStatusCode Status, JsonElement Body, string Text)> ReadJsonAsync(this Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        var body = string.IsNullOrWhiteSpace(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, text);
    }
}
