using Dragonfly.Common.Errors;

namespace Dragonfly.Supernode.Managers.Registration;

/// <summary>
/// The registry side effects of PROTOCOL §1.4, in one call: validate, register the peer (new id each time, unless an
/// existing v1 peer id is given), create or reuse the task (probe the source, size pieces, conflict rules, unreachable
/// memo), add the dfget-task <c>cid@taskId</c>, init its progress, and trigger the CDN when the task needs it.
/// </summary>
public interface IRegistrationService
{
    /// <exception cref="DragonflyException">
    /// InvalidValue (bad URL, cid, IP, host name, port, path...), UrlNotReachable, AuthenticationRequired, TaskIdConflict,
    /// DataNotFound (unknown v1 peer id). On failure nothing registered by this call is left behind (new peer, new task,
    /// dfget-task, progress).
    /// </exception>
    Task<RegistrationResult> RegisterAsync(RegistrationRequest request, CancellationToken cancellationToken);
}
