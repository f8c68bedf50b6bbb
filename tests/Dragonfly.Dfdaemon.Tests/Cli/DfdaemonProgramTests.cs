using Dragonfly.Dfdaemon.Cli;
using Dragonfly.Dfdaemon.Config;
using Dragonfly.TestCommon;
using System.Security.Cryptography.X509Certificates;

namespace Dragonfly.Dfdaemon.Tests.Cli;

public class DfdaemonProgramTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await DfdaemonProgram.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Run_Version_PrintsVersion()
    {
        var (code, output, _) = await RunAsync("version");
        code.Should().Be(0);
        output.Should().StartWith("dfdaemon version ");
    }

    [Fact]
    public async Task Run_ConfigDefault_PrintsLoadableYaml()
    {
        var (code, output, _) = await RunAsync("config", "default");
        code.Should().Be(0);
        DfdaemonConfigLoader.ParseYaml(output, "stdout").Port.Should().Be(65001);
    }

    [Fact]
    public async Task Run_InvalidPort_Exit14WithOneLineError()
    {
        var (code, _, err) = await RunAsync("--config", "/nonexistent-default-ok", "--port", "99999");
        code.Should().Be(10, "an explicit missing config is reported first");
        (code, _, err) = await RunAsync("--port", "99999", "--workHome", "/tmp");
        code.Should().Be(14);
        err.Trim().Should().StartWith("dfdaemon: invalid port").And.NotContain("\n");
    }

    [Fact]
    public async Task Run_UnknownFlag_Exit2()
    {
        var (code, _, err) = await RunAsync("--bogus");
        code.Should().Be(2);
        err.Should().Contain("--bogus");
    }

    [Fact]
    public async Task Run_GenCa_WritesCaAndPrivateKeyWithMode0600()
    {
        using var dir = new TempDirectory();
        var cert = dir.Combine("ca.crt");
        var key = dir.Combine("ca.key");
        var (code, _, _) = await RunAsync("gen-ca", "--cert", cert, "--key", key, "--cn", "test CA");
        code.Should().Be(0);
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(key).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        using var ca = X509Certificate2.CreateFromPemFile(cert, key);
        ca.HasPrivateKey.Should().BeTrue();
        ca.Subject.Should().Contain("CN=test CA");
        Dragonfly.Dfdaemon.Tls.CertificateAuthority.IsCa(ca).Should().BeTrue();

        var (again, _, err) = await RunAsync("gen-ca", "--cert", cert, "--key", key);
        again.Should().Be(10, "existing key material is never overwritten");
        err.Should().Contain("already exists");
    }

    [Fact]
    public void Parse_FlagForms_CaseInsensitiveAndInlineValues()
    {
        var cl = DfdaemonCommandLine.Parse(["--hostip=10.0.0.2", "--verbose", "--node", "a", "--node=b"]);
        cl.Get("hostIp").Should().Be("10.0.0.2");
        cl.Get("verbose").Should().Be("true");
        cl.GetAll("node").Should().Equal("a", "b");
    }
}
