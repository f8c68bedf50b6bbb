namespace Dragonfly.Dfget.App.Commands;

/// <summary>
/// The thread-pool setting of the download role, applied by <c>dfget</c> itself as it starts a download: one binary
/// runs both roles, and a runtimeconfig setting would reach the uploader (<c>dfget server</c>) too.
/// <para>
/// A download turns off the pool's spinning before it parks an idle worker
/// (<c>System.Threading.ThreadPool.UnfairSemaphoreSpinLimit</c> 0): its work comes in bursts of piece bytes and md5
/// rounds with short gaps, and the spinning between them was CPU spent on nothing (see docs/design/performance.md). An
/// uploader keeps the runtime's default, so an idle server still answers its next request without a full wake-up.
/// </para>
/// The runtime reads the setting once, when it creates the pool's first worker, so this must run before anything is
/// queued to the pool; it does nothing if that already happened.
/// </summary>
internal static class DownloadThreadPool
{
    public const string SpinLimitSetting = "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit";

    public static void Configure()
    {
        if (AppContext.GetData(SpinLimitSetting) is null)
        {
            AppContext.SetData(SpinLimitSetting, 0);
        }
    }
}
