using Dragonfly.Dfget.WorkHome;

namespace Dragonfly.Dfget.App.Cli;

/// <summary>What flag binding reads from the environment, injectable for tests.</summary>
public sealed record CliContext(string CurrentDirectory, string YamlConfigPath, string IniConfigPath, Func<string> DefaultWorkHome)
{
    public static CliContext FromEnvironment() => new(
        Environment.CurrentDirectory,
        DfgetConfigFile.DefaultYamlPath,
        DfgetConfigFile.DefaultIniPath,
        () => WorkHomeLayout.Default().Root);
}

/// <summary>A bad flag or value: printed as one clear line, exit status 2, no stack trace.</summary>
public sealed class CliUsageException(string message) : Exception(message);
