using System.Runtime.InteropServices;

namespace Dragonfly.Dfget.App.Commands;

/// <summary>Detaches the uploader from the terminal session of the dfget that started it (so Ctrl-C or a closed terminal spare it).</summary>
internal static partial class ProcessSession
{
    public static void Detach()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        try
        {
            // Fails harmlessly when already a process-group leader.
            _ = SetSid();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "setsid")]
    private static partial int SetSid();
}
