using System.Reflection;

namespace Dragonfly.Dfget.Engine;

/// <summary>The dfget version string sent as <c>User-Agent: dfget/&lt;version&gt;</c> and to the supernode.</summary>
public static class DfgetVersion
{
    public static string Current { get; } = Read();

    public static string UserAgent => "dfget/" + Current;

    private static string Read()
    {
        var info = typeof(DfgetVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(info))
        {
            return "1.0.6";
        }

        var plus = info.IndexOf('+', StringComparison.Ordinal);
        return plus > 0 ? info[..plus] : info;
    }
}
