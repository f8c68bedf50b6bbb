namespace Dragonfly.Dfget.Tests;

public class SmokeTests
{
    [Fact]
    public void Assembly_Loads() => typeof(SmokeTests).Assembly.Should().NotBeNull();
}
