using Dragonfly.Common.Errors;

namespace Dragonfly.Dfdaemon.Config;

/// <summary>dfdaemon's exit codes (same numbers as the original).</summary>
public enum DfdaemonExitCode
{
    Ok = 0,
    Usage = 2,
    ConfigError = 10,
    HomeMissing = 11,
    RepoNotAbsolute = 12,
    InvalidRate = 13,
    InvalidPort = 14,
    RepoCreateFail = 16,
    StartFail = 17,
}

/// <summary>A configuration problem: a one-line message (<see cref="ErrorText.OneLine"/>, whatever values it quotes) and the
/// exit code to end with.</summary>
public sealed class DfdaemonConfigException : Exception
{
    public DfdaemonConfigException(DfdaemonExitCode exitCode, string message)
        : base(ErrorText.OneLine(message))
    {
        ExitCode = exitCode;
    }

    public DfdaemonConfigException()
    {
    }

    public DfdaemonConfigException(string message)
        : base(ErrorText.OneLine(message))
    {
    }

    public DfdaemonConfigException(string message, Exception innerException)
        : base(ErrorText.OneLine(message), innerException)
    {
    }

    public DfdaemonExitCode ExitCode { get; } = DfdaemonExitCode.ConfigError;
}
