using System.Reflection;

namespace Dragonfly.Dfdaemon.Hosting;

/// <summary>The dfdaemon version (the assembly's informational version without build metadata).</summary>
public static class DfdaemonVersion
{
    public static string Current { get; } = Read();

    private static string Read()
    {
        var info = typeof(DfdaemonVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.6";
        var plus = info.IndexOf('+', StringComparison.Ordinal);
        return plus > 0 ? info[..plus] : info;
    }
}
