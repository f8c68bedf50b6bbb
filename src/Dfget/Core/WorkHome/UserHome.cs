namespace Dragonfly.Dfget.WorkHome;

/// <summary>
/// The current user's home directory as the passwd database records it (like the original, which ignores <c>$HOME</c>),
/// falling back to the profile folder when the database has no entry.
/// </summary>
public static class UserHome
{
    private const string PasswdPath = "/etc/passwd";

    public static string Resolve() => Resolve(PasswdPath, Environment.UserName);

    /// <summary>Looks <paramref name="userName"/> up in a passwd-format file (name:pw:uid:gid:gecos:home:shell).</summary>
    public static string Resolve(string passwdPath, string userName)
    {
        try
        {
            if (OperatingSystem.IsWindows() || !File.Exists(passwdPath))
            {
                return Fallback();
            }

            foreach (var line in File.ReadLines(passwdPath))
            {
                var fields = line.Split(':');
                if (fields.Length >= 7 && fields[0] == userName && Path.IsPathFullyQualified(fields[5]))
                {
                    return fields[5];
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Fallback();
    }

    private static string Fallback()
    {
        var profile = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(profile) ? Path.GetTempPath() : profile;
    }
}
