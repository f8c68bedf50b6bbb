using Dragonfly.Supernode.Admin;

namespace Microsoft.AspNetCore.Builder;

/// <summary><c>.RequireAccess(RouteAccess.Manage)</c> on a route: its access as metadata, and the token check when it may need one.</summary>
public static class AdminAccessExtensions
{
    /// <summary>
    /// Records <paramref name="access"/> on the endpoint and, unless it is <see cref="RouteAccess.Open"/>, adds the
    /// <see cref="AdminTokenFilter"/> (which lets everything through when no token is configured).
    /// </summary>
    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, RouteAccess access)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithMetadata(new RouteAccessMetadata(access));
        if (access != RouteAccess.Open)
        {
            builder.AddEndpointFilter<TBuilder, AdminTokenFilter>();
        }

        return builder;
    }
}
