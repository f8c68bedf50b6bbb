namespace Dragonfly.TestCommon;

/// <summary>
/// Finds the published executables (<c>bin/supernode</c>, <c>bin/dfget</c>, <c>bin/dfdaemon</c>) that real-process tests
/// run: <c>$DRAGONFLY_BIN</c> (set by build.sh) or <c>&lt;repo&gt;/bin</c> found by walking up from the test assembly.
/// </summary>
public static class DragonflyBinaries
{
    public static string Directory
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("DRAGONFLY_BIN");
            if (!string.IsNullOrEmpty(fromEnv))
            {
                return fromEnv;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Dragonfly.sln")))
                {
                    return Path.Combine(dir.FullName, "bin");
                }
            }

            throw new InvalidOperationException("cannot find the repository root; set DRAGONFLY_BIN");
        }
    }

    public static string PathOf(string name)
    {
        var path = Path.Combine(Directory, name);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{name} is not published; run ./build.sh first (looked in {Directory})", path);
        }

        return path;
    }
}
