using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dragonfly.Supernode.Preheat;

/// <summary>An image reference parsed from a manifest URL <c>&lt;scheme&gt;://&lt;host&gt;/v2/&lt;repo&gt;/manifests/&lt;ref&gt;</c>.</summary>
internal sealed partial record ImageReference(string Scheme, string Host, string Repository, string Reference)
{
    public string ManifestUrl(string reference) => $"{Scheme}://{Host}/v2/{Repository}/manifests/{reference}";

    public string BlobUrl(string digest) => $"{Scheme}://{Host}/v2/{Repository}/blobs/{digest}";

    public static bool TryParse(string? url, out ImageReference reference)
    {
        reference = null!;
        var m = url is null ? Match.Empty : ManifestUrlRegex().Match(url);
        if (!m.Success || m.Groups[1].Value is not ("http" or "https") || m.Groups[2].Value.Length == 0 || m.Groups[3].Value.Length == 0 || m.Groups[4].Value.Length == 0)
        {
            return false;
        }

        reference = new ImageReference(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value);
        return true;
    }

    [GeneratedRegex("^(.*)://(.*)/v2/(.*)/manifests/(.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ManifestUrlRegex();
}

/// <summary>What a manifest names: layer blobs (schema 1, schema 2, OCI) or child manifests (manifest list, OCI index).</summary>
internal sealed record ManifestContent(IReadOnlyList<string> Layers, IReadOnlyList<string> ChildManifests);

/// <summary>Parses registry manifests of every kind the preheat accepts.</summary>
internal static class ManifestParser
{
    /// <summary>
    /// The most distinct layers, or child manifests, one manifest may name (far above any real image); beyond it the manifest
    /// is refused, so a hostile registry cannot fan one preheat out into unbounded work.
    /// </summary>
    public const int MaxEntries = 1000;

    public const string AcceptHeader =
        "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, " +
        "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, " +
        "application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5, application/json;q=0.1";

    /// <exception cref="FormatException">Not a manifest this parser knows, or one naming more than <see cref="MaxEntries"/> entries.</exception>
    public static ManifestContent Parse(ReadOnlySpan<byte> json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatException($"manifest is not JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("manifest is not a JSON object");
            }

            if (root.TryGetProperty("fsLayers", out var fsLayers) && fsLayers.ValueKind == JsonValueKind.Array)
            {
                return new ManifestContent(Distinct(fsLayers.EnumerateArray().Select(l => Str(l, "blobSum"))), []);
            }

            if (root.TryGetProperty("manifests", out var manifests) && manifests.ValueKind == JsonValueKind.Array)
            {
                return new ManifestContent([], Distinct(manifests.EnumerateArray().Select(m => Str(m, "digest"))));
            }

            if (root.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array)
            {
                return new ManifestContent(Distinct(layers.EnumerateArray().Select(l => Str(l, "digest"))), []);
            }

            throw new FormatException("manifest has no fsLayers, layers or manifests");
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static List<string> Distinct(IEnumerable<string?> digests)
    {
        var list = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in digests)
        {
            if (string.IsNullOrEmpty(d))
            {
                throw new FormatException("manifest entry without a digest");
            }

            if (!IsDigest(d))
            {
                throw new FormatException($"'{d}' is not a digest");
            }

            if (seen.Add(d))
            {
                if (list.Count == MaxEntries)
                {
                    throw new FormatException($"manifest names more than {MaxEntries} layers or manifests");
                }

                list.Add(d);
            }
        }

        return list;
    }

    /// <summary><c>algorithm:hex</c>, safe to put in a URL path.</summary>
    private static bool IsDigest(string d)
    {
        var colon = d.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && colon < d.Length - 1 &&
               d[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '.' or '_' or '-') &&
               d[(colon + 1)..].All(c => char.IsAsciiLetterOrDigit(c) || c is '=' or '_' or '-');
    }
}

/// <summary>A <c>WWW-Authenticate: Bearer realm="..",service="..",scope=".."</c> challenge.</summary>
internal sealed record BearerChallenge(string Realm, string? Service, string? Scope)
{
    public static bool TryParse(string? header, out BearerChallenge challenge)
    {
        challenge = null!;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match m in Regex.Matches(header["Bearer ".Length..], "([A-Za-z]+)=\"([^\"]*)\""))
        {
            values[m.Groups[1].Value] = m.Groups[2].Value;
        }

        if (!values.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var uri) ||
            (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return false;
        }

        challenge = new BearerChallenge(realm, values.GetValueOrDefault("service"), values.GetValueOrDefault("scope"));
        return true;
    }

    public Uri TokenUri()
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(Service))
        {
            query.Add("service=" + Uri.EscapeDataString(Service));
        }

        if (!string.IsNullOrEmpty(Scope))
        {
            query.Add("scope=" + Uri.EscapeDataString(Scope));
        }

        var sep = Realm.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        return new Uri(query.Count == 0 ? Realm : Realm + sep + string.Join('&', query));
    }
}
