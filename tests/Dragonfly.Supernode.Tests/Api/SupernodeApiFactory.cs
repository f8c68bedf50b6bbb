using Dragonfly.TestCommon;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Dragonfly.Supernode.Tests.Api;

/// <summary>
/// The real Program on an in-memory TestServer. Options reach Program through its real command line: host settings
/// become <c>--key=value</c> arguments (<c>--home-dir</c>, <c>--advertise-ip</c>), exactly like an operator's flags.
/// Subclasses add <c>base:</c> lines to the supernode.yml it writes (<see cref="ExtraConfig"/>).
/// </summary>
public class SupernodeApiFactory : WebApplicationFactory<Program>
{
    private readonly TempDirectory _home = new("dragonfly-sn-api-");

    public string HomeDir => _home.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("home-dir", _home.Path);
        builder.UseSetting("advertise-ip", "127.0.0.1");
        builder.UseSetting("config", Path.Combine(_home.Path, "supernode.yml"));
        File.WriteAllText(Path.Combine(_home.Path, "supernode.yml"), "base:\n  debug: false\n" + ExtraConfig(_home.Path));
    }

    /// <summary>More <c>base:</c> lines (indented two spaces) for the supernode.yml in <paramref name="home"/>.</summary>
    protected virtual string ExtraConfig(string home) => string.Empty;

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _home.Dispose();
        }
    }
}
