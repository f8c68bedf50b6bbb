using Dragonfly.Common.Hosting;
using Dragonfly.Supernode.Hosting;

// The supernode: parse the command line (flags, supernode.yml, subcommands), compose, map the API, run.
return await SupernodeCommandLine.RunAsync(args, async (options, hostArgs) =>
{
    var builder = WebApplication.CreateBuilder(DaemonHostArguments.With(hostArgs));
    builder.Services.AddSupernode(options);
    var app = builder.Build();
    app.MapSupernodeApi();
    await app.RunAsync().ConfigureAwait(false);
    return SupernodeCommandLine.ExitOk;
}).ConfigureAwait(false);

/// <summary>The entry point type (WebApplicationFactory&lt;Program&gt; in the API tests).</summary>
public partial class Program;
