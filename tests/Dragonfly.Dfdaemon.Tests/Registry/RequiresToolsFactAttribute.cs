using Dragonfly.Dfdaemon.Tests.Support;

namespace Dragonfly.Dfdaemon.Tests.Registry;

/// <summary>A fact that is skipped, with the reason shown, when a real tool it drives is not installed (build.sh installs them).</summary>
public sealed class RequiresToolsFactAttribute : FactAttribute
{
    public RequiresToolsFactAttribute(params string[] tools)
    {
        var missing = tools.Where(t => !ExternalProcess.IsInstalled(t)).ToList();
        if (missing.Count > 0)
        {
            Skip = $"not installed: {string.Join(", ", missing)} (./build.sh installs them)";
        }
    }
}
