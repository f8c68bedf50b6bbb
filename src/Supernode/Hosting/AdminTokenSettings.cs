using Dragonfly.Supernode.Admin;

namespace Dragonfly.Supernode.Hosting;

/// <summary>
/// Where the admin token comes from, in the order every setting applies: <c>base.adminToken</c> or
/// <c>base.adminTokenFile</c> in the YAML file, then <c>SUPERNODE_ADMIN_TOKEN</c> (a variable with no flag, so the secret
/// never shows in a process list) or <c>SUPERNODE_ADMIN_TOKEN_FILE</c>, then <c>--admin-token-file</c>. A later form replaces
/// an earlier one; two forms in one place are an error. The file is read once, at start-up: missing, unreadable, empty or
/// not a usable token is a configuration error. No message repeats the token.
/// </summary>
public static class AdminTokenSettings
{
    /// <summary>The variable holding the token itself.</summary>
    public const string TokenVariable = SupernodeCommandLine.EnvironmentPrefix + "ADMIN_TOKEN";

    /// <summary>The variable naming the token file (the <c>--admin-token-file</c> flag's variable).</summary>
    public const string FileVariable = SupernodeCommandLine.EnvironmentPrefix + "ADMIN_TOKEN_FILE";

    /// <summary>A token from its text; <paramref name="context"/> names the setting in the error.</summary>
    /// <exception cref="SupernodeConfigurationException">Not a usable token.</exception>
    public static AdminToken Token(string text, string source, string context) =>
        AdminToken.TryCreate(text, source, out var token, out var error)
            ? token
            : throw new SupernodeConfigurationException($"{context}: the admin token {error}");

    /// <summary>Applies <see cref="TokenVariable"/> over the YAML's token settings.</summary>
    /// <exception cref="SupernodeConfigurationException">Both variables are set, or the token is not usable.</exception>
    public static SupernodeOptions ApplyEnvironment(SupernodeOptions options, Func<string, string?>? environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        var text = environment?.Invoke(TokenVariable);
        if (string.IsNullOrEmpty(text))
        {
            return options;
        }

        if (!string.IsNullOrEmpty(environment!(FileVariable)))
        {
            throw new SupernodeConfigurationException($"set {TokenVariable} or {FileVariable}, not both");
        }

        return options with { AdminToken = Token(text, TokenVariable, TokenVariable), AdminTokenFile = null };
    }

    /// <summary>Reads <see cref="SupernodeOptions.AdminTokenFile"/>, when set, into <see cref="SupernodeOptions.AdminToken"/>.</summary>
    /// <exception cref="SupernodeConfigurationException">The file is missing, unreadable, empty or not a usable token.</exception>
    public static SupernodeOptions ReadFile(SupernodeOptions options, Func<string, bool> fileExists, Func<string, string> readFile)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(fileExists);
        ArgumentNullException.ThrowIfNull(readFile);
        if (options.AdminTokenFile is not { } path)
        {
            return options;
        }

        var context = $"admin token file {path}";
        if (path.Trim().Length == 0)
        {
            throw new SupernodeConfigurationException("admin token file: the path is empty");
        }

        if (!fileExists(path))
        {
            throw new SupernodeConfigurationException($"{context} does not exist");
        }

        string text;
        try
        {
            text = readFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SupernodeConfigurationException($"cannot read {context}: {e.Message}", e);
        }

        return options with { AdminToken = Token(text, $"file {path}", context) };
    }
}
