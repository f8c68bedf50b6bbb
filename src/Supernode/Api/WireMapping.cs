using Dragonfly.Common.Api.Models;
using Dragonfly.Common.Security;
using Dragonfly.Supernode.Managers.Peers;
using Dragonfly.Supernode.Managers.Registration;
using Dragonfly.Supernode.Managers.Tasks;
using ApiCdnStatus = Dragonfly.Common.Api.Models.CdnStatus;
using TaskCdnStatus = Dragonfly.Supernode.Managers.Tasks.CdnStatus;

namespace Dragonfly.Supernode.Api;

/// <summary>Manager snapshots → wire DTOs (strings only at this edge).</summary>
internal static class WireMapping
{
    public static PeerInfo ToPeerInfo(this PeerSnapshot peer) => new()
    {
        Id = peer.Id.Value,
        Ip = peer.Ip,
        HostName = peer.HostName,
        Port = peer.Port,
        Version = peer.Version,
        Created = peer.Created,
    };

    /// <summary>
    /// A task as the API shows it: credentials hidden (a header such as <c>Authorization</c> or a cookie, a user and
    /// password in the URL), since anyone who reaches the API can list every task.
    /// </summary>
    public static TaskInfo ToTaskInfo(this TaskSnapshot task) => new()
    {
        Id = task.Id.Value,
        CdnStatus = ToApiStatus(task.CdnStatus),
        FileLength = task.FileLength,
        HttpFileLength = task.HttpFileLength,
        PieceSize = task.PieceSize,
        PieceTotal = task.PieceTotal,
        RawUrl = Redact.Argument(task.RawUrl),
        TaskUrl = Redact.Argument(task.TaskUrl),
        Md5 = NullIfEmpty(task.Md5),
        RealMd5 = NullIfEmpty(task.RealMd5),
        Identifier = NullIfEmpty(task.Identifier),
        Headers = task.Headers.Count == 0 ? null : Redact.Headers(task.Headers),
        AsSeed = false,
    };

    public static ApiCdnStatus ToApiStatus(TaskCdnStatus status) => status switch
    {
        TaskCdnStatus.Waiting => ApiCdnStatus.Waiting,
        TaskCdnStatus.Running => ApiCdnStatus.Running,
        TaskCdnStatus.Failed => ApiCdnStatus.Failed,
        TaskCdnStatus.Success => ApiCdnStatus.Success,
        TaskCdnStatus.SourceError => ApiCdnStatus.SourceError,
        _ => ApiCdnStatus.Waiting,
    };

    public static CdnSource ToCdnSource(string? cdnSource) =>
        string.Equals(cdnSource, "source", StringComparison.OrdinalIgnoreCase) ? CdnSource.Source : CdnSource.Supernode;

    public static PullPieceTaskItem ToLegacyItem(this PieceTaskItem item) => new()
    {
        Range = item.Range.ToString(),
        PieceNum = item.PieceNum,
        PieceSize = item.PieceSize,
        PieceMd5 = item.PieceMd5,
        Cid = item.Cid.Value,
        PeerIp = item.PeerIp,
        PeerPort = item.PeerPort,
        Path = item.Path,
        DownLink = item.DownLink,
    };

    /// <summary>
    /// A scheduled piece for the v1 surface. <c>pID</c> carries the uploader's client id (what the supernode tracks the piece
    /// holder by); the client echoes it back as <c>dstPID</c> in its next pull or piece report.
    /// </summary>
    public static PieceInfo ToPieceInfo(this PieceTaskItem item) => new()
    {
        PeerId = item.Cid.Value,
        PieceRange = item.Range.ToString(),
        PieceSize = item.PieceSize,
        PieceMd5 = NullIfEmpty(item.PieceMd5),
        PeerIp = item.PeerIp,
        PeerPort = item.PeerPort,
        Path = item.Path,
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
