using System.Reflection;
using System.Runtime.InteropServices;
using Dragonfly.Common.Api.Models;

namespace Dragonfly.Supernode.Hosting;

/// <summary>Build information of this supernode (<c>GET /version</c>, <c>supernode version</c>, the build_info metric).</summary>
public static class SupernodeVersion
{
    /// <summary>Computed once from assembly attributes; immutable.</summary>
    public static DragonflyVersion Current { get; } = Create();

    private static DragonflyVersion Create()
    {
        var assembly = typeof(SupernodeVersion).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0 ? informational : informational[..plus];
        var revision = plus < 0 ? "unknown" : informational[(plus + 1)..];
        var buildDate = File.Exists(assembly.Location)
            ? File.GetLastWriteTimeUtc(assembly.Location).ToString("yyyyMMdd-HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)
            : "unknown";
        return new DragonflyVersion
        {
            Version = version,
            Revision = revision,
            BuildDate = buildDate,
            GoVersion = RuntimeInformation.FrameworkDescription,
            OS = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsMacOS() ? "darwin" : "unknown",
            Arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "amd64",
                Architecture.Arm64 => "arm64",
                Architecture.X86 => "386",
                Architecture.Arm => "arm",
                var other => other.ToString().ToLowerInvariant(),
            },
        };
    }
}
