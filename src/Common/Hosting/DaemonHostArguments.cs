namespace Dragonfly.Common.Hosting;

/// <summary>
/// Host arguments the supernode and dfdaemon add to their own before building the ASP.NET Core host.
/// </summary>
/// <remarks>
/// The default builders read <c>appsettings.json</c> from the content root, the working directory, and watch it for
/// changes. On Linux that watch is recursive: started from <c>/</c>, which is where systemd and most container images
/// start a service, the host walked the whole file system (5.3 CPU-s of supernode start-up and 50,000 inotify watches
/// on the project's machine) and then handled an event for every file written anywhere under it, the CDN's own writes
/// included. Neither program reloads its configuration at run time (flags, their YAML file and environment variables
/// are read once), so the file is still read at start and no longer watched.
/// </remarks>
public static class DaemonHostArguments
{
    /// <summary>Turns off the default builders' configuration-file watching.</summary>
    public const string NoConfigReload = "--hostBuilder:reloadConfigOnChange=false";

    /// <summary><paramref name="hostArgs"/> with <see cref="NoConfigReload"/> appended.</summary>
    public static string[] With(IEnumerable<string> hostArgs)
    {
        ArgumentNullException.ThrowIfNull(hostArgs);
        return [.. hostArgs, NoConfigReload];
    }
}
