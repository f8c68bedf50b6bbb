namespace Dragonfly.Dfget.Downloading;

/// <summary>Recognises a full disk in an <see cref="IOException"/>.</summary>
internal static class DiskErrors
{
    private const int Enospc = 28;
    private const int ErrorDiskFull = 112;
    private const int ErrorHandleDiskFull = 39;

    public static bool IsNoSpace(Exception e) =>
        e is IOException io
        && ((io.HResult & 0xFFFF) is Enospc or ErrorDiskFull or ErrorHandleDiskFull
            || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
            || io.Message.Contains("not enough space", StringComparison.OrdinalIgnoreCase));
}
