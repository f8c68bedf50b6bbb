namespace Dragonfly.Dfget.Engine;

/// <summary>Creates the <see cref="Random"/> a download uses (back-off jitter, node order). Injected so tests are repeatable.</summary>
public interface IRandomFactory
{
    Random Create();
}

/// <summary>Fresh unseeded randoms.</summary>
public sealed class DefaultRandomFactory : IRandomFactory
{
    public Random Create() => new();
}
