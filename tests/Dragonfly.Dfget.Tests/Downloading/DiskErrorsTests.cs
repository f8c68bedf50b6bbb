using Dragonfly.Dfget.Downloading;

namespace Dragonfly.Dfget.Tests.Downloading;

public sealed class DiskErrorsTests
{
    [Fact]
    public void IsNoSpace_WriteToDevFull_IsRecognised()
    {
        if (!File.Exists("/dev/full"))
        {
            return;
        }

        using var handle = File.OpenHandle("/dev/full", FileMode.Open, FileAccess.Write);
        var act = () => RandomAccess.Write(handle, new byte[4096], 0);

        var error = act.Should().Throw<IOException>().Which;
        DiskErrors.IsNoSpace(error).Should().BeTrue(error.Message);
    }

    [Fact]
    public void IsNoSpace_OtherIOException_IsFalse() =>
        DiskErrors.IsNoSpace(new IOException("connection reset")).Should().BeFalse();
}
