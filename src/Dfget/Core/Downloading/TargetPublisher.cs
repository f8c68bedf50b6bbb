using System.Runtime.InteropServices;

namespace Dragonfly.Dfget.Downloading;

/// <summary>
/// Makes a finished file appear at the output path atomically: the content is first linked (or copied) to a temp name in
/// the output directory, then renamed over the output. A half-written file is never visible at the output path.
/// </summary>
internal static class TargetPublisher
{
    /// <summary>Publishes <paramref name="serviceFile"/> at <paramref name="output"/> as a hard link (copy when cross-device).</summary>
    public static async Task PublishLinkAsync(string serviceFile, string output, string tempPath, CancellationToken cancellationToken)
    {
        try
        {
            if (File.Exists(tempPath))
            {
                File.Delete(tempPath);
            }

            if (!TryHardLink(serviceFile, tempPath))
            {
                await CopyAsync(serviceFile, tempPath, cancellationToken).ConfigureAwait(false);
            }

            MakeExecutableReadable(tempPath);
            File.Move(tempPath, output, overwrite: true);
        }
        catch
        {
            TryDelete(tempPath);
            throw;
        }
    }

    /// <summary>Renames a complete temp file (same directory) over the output.</summary>
    public static void PublishMove(string tempPath, string output)
    {
        MakeExecutableReadable(tempPath);
        File.Move(tempPath, output, overwrite: true);
    }

    public static void TryDelete(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task CopyAsync(string source, string destination, CancellationToken cancellationToken)
    {
        var input = new FileStream(source, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });
        await using (input.ConfigureAwait(false))
        {
            var outputStream = new FileStream(destination, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous });
            await using (outputStream.ConfigureAwait(false))
            {
                await input.CopyToAsync(outputStream, 256 * 1024, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static void MakeExecutableReadable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    private static bool TryHardLink(string existing, string link)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        return NativeMethods.link(existing, link) == 0;
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldpath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newpath);
    }
}
