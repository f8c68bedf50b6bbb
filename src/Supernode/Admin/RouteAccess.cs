namespace Dragonfly.Supernode.Admin;

/// <summary>
/// Who may call a route when the supernode has an admin token (<c>adminTokenFile</c>). Every route of the route table says
/// which it is; without a token every route is open, as in the original.
/// </summary>
public enum RouteAccess
{
    /// <summary>
    /// Never needs the token: the data plane that dfget, dfdaemon and an unmodified original dfget call without credentials
    /// (the legacy <c>/peer/*</c> and <c>/task/metrics</c> routes, v1 peer and task creation, pulls, piece reports), plus
    /// <c>/_ping</c>, <c>/version</c>, <c>/metrics</c>, the route listings and the swarm page (a page without data).
    /// </summary>
    Open,

    /// <summary>
    /// A read-only management view (peers, tasks, a task's swarm, preheats): open unless <c>adminProtectReads</c> is set.
    /// These views hide credentials (headers, URL user info) whoever reads them.
    /// </summary>
    View,

    /// <summary>
    /// Changes the supernode's state on an operator's behalf and is called by no client (preheat create and delete, task
    /// update and delete, peer delete): needs the token whenever one is configured.
    /// </summary>
    Manage,
}

/// <summary>Endpoint metadata carrying a route's <see cref="RouteAccess"/> (read by <see cref="AdminTokenFilter"/> and the tests).</summary>
public sealed record RouteAccessMetadata(RouteAccess Access);
