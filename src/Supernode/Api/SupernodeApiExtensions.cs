using System.Reflection;
using Dragonfly.Supernode.Api;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the supernode's HTTP surface: <c>app.MapSupernodeApi()</c>.</summary>
public static class SupernodeApiExtensions
{
    /// <summary>Where the swagger document is served; the UI is at <c>/swagger</c>.</summary>
    public const string SwaggerDocumentPath = "/swagger/swagger.yml";

    /// <summary>
    /// Adds the middleware (metrics, routing, Swagger UI) and maps every route of <see cref="SupernodeRoutes.All"/> at its
    /// mount points (§1.1): legacy at the root, v1 under <c>/api/v1</c> and at the root, everything again under
    /// <c>/v{version}</c>; each surface with its own error mapper, and each route with its <c>RouteAccess</c> (the admin token
    /// guards the management routes at every mount point). The download port is not HTTP routing: its Kestrel
    /// endpoint runs <c>DownloadPortConnectionHandler</c> instead.
    /// </summary>
    public static WebApplication MapSupernodeApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<RequestMetricsMiddleware>();
        app.UseRouting();
        app.Map(SwaggerDocumentPath, branch => branch.Run(ServeSwaggerDocumentAsync));
        app.UseSwaggerUI(ui =>
        {
            ui.RoutePrefix = "swagger";
            ui.SwaggerEndpoint(SwaggerDocumentPath, "Dragonfly SuperNode API");
            ui.DocumentTitle = "Dragonfly SuperNode API";
        });

        MapRoutes(app);
        return app;
    }

    /// <summary>Maps the route table onto <paramref name="endpoints"/> (separate from the middleware for tests).</summary>
    public static void MapRoutes(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        foreach (var versionPrefix in new[] { string.Empty, SupernodeRoutes.VersionPrefix })
        {
            var legacy = endpoints.MapGroup(versionPrefix).AddEndpointFilter<LegacyErrorFilter>();
            var v1 = endpoints.MapGroup(versionPrefix + SupernodeRoutes.V1Prefix).AddEndpointFilter<V1ErrorFilter>();
            var v1Root = endpoints.MapGroup(versionPrefix).AddEndpointFilter<V1ErrorFilter>();
            foreach (var route in SupernodeRoutes.All)
            {
                var metadata = new ApiRouteMetadata(route.Method, route.DocumentedPath, route.Category);
                if (route.Category == ApiCategory.Legacy)
                {
                    legacy.MapMethods(route.Path, [route.Method], route.Handler).WithMetadata(metadata).RequireAccess(route.Access);
                    continue;
                }

                v1.MapMethods(route.Path, [route.Method], route.Handler).WithMetadata(metadata).RequireAccess(route.Access);
                if (SupernodeRoutes.MountsAtRoot(route))
                {
                    v1Root.MapMethods(route.Path, [route.Method], route.Handler).WithMetadata(metadata).RequireAccess(route.Access);
                }
            }
        }
    }

    private static async Task ServeSwaggerDocumentAsync(HttpContext context)
    {
        var text = await LoadSwaggerAsync(context.RequestAborted).ConfigureAwait(false);
        if (text is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync("swagger.yml is not shipped with this build", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/yaml; charset=utf-8";
        await context.Response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The shipped <c>apis/swagger.yml</c>: an embedded resource, else the file next to the binary.</summary>
    private static async Task<string?> LoadSwaggerAsync(CancellationToken cancellationToken)
    {
        var assembly = typeof(SupernodeApiExtensions).Assembly;
        var resource = assembly.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith("swagger.yml", StringComparison.Ordinal));
        if (resource is not null && assembly.GetManifestResourceStream(resource) is { } stream)
        {
            using var reader = new StreamReader(stream);
            return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }

        var file = Path.Combine(AppContext.BaseDirectory, "swagger.yml");
        return File.Exists(file) ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : null;
    }
}
