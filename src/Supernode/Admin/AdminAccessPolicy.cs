using Microsoft.Extensions.Primitives;

namespace Dragonfly.Supernode.Admin;

/// <summary>The outcome of checking a request against a route's <see cref="RouteAccess"/>.</summary>
public enum AdminCheck
{
    /// <summary>The route needs no token here, or the request carries the right one.</summary>
    Allowed,

    /// <summary>The route needs the token and the request has no usable <c>Authorization: Bearer</c> credential (401).</summary>
    Unauthenticated,

    /// <summary>The request's bearer token is not the admin token (403).</summary>
    Forbidden,
}

/// <summary>
/// Decides whether a request may call a route: the admin token (none = every route open, the original's behaviour) and
/// whether it also guards the read-only views. Pure: no I/O, no logging (<see cref="AdminTokenFilter"/> answers and logs).
/// </summary>
public sealed class AdminAccessPolicy
{
    private const string BearerPrefix = "Bearer ";

    public AdminAccessPolicy(AdminToken? token, bool protectViews)
    {
        if (protectViews && token is null)
        {
            throw new ArgumentException("protecting the read-only views needs an admin token", nameof(protectViews));
        }

        Token = token;
        ProtectsViews = protectViews;
    }

    /// <summary>No token: every route is open.</summary>
    public static AdminAccessPolicy Open { get; } = new(null, protectViews: false);

    public AdminToken? Token { get; }

    public bool ProtectsViews { get; }

    /// <summary>True when a route of this access needs the token.</summary>
    public bool Protects(RouteAccess access) => Token is not null && access switch
    {
        RouteAccess.Open => false,
        RouteAccess.View => ProtectsViews,
        _ => true,
    };

    /// <summary>Checks the request's <c>Authorization</c> header values against the route's access.</summary>
    public AdminCheck Check(RouteAccess access, StringValues authorization)
    {
        if (!Protects(access))
        {
            return AdminCheck.Allowed;
        }

        // Exactly one "Bearer <token>" (scheme case-insensitive, RFC 7235); anything else presents no bearer credential.
        if (authorization.Count != 1 || authorization[0] is not { } header ||
            !header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return AdminCheck.Unauthenticated;
        }

        var presented = header[BearerPrefix.Length..].Trim();
        if (presented.Length == 0)
        {
            return AdminCheck.Unauthenticated;
        }

        return Token!.Matches(presented) ? AdminCheck.Allowed : AdminCheck.Forbidden;
    }
}
