using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Dragonfly.TestCommon;

/// <summary>Keeps log lines (from <paramref name="minimum"/> up, Information by default) in memory, so a failing test can
/// show what the code under test said, and a test can check that it said something.</summary>
public sealed class ListLoggerProvider(LogLevel minimum = LogLevel.Information) : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public LogLevel Minimum => minimum;

    public ILogger CreateLogger(string categoryName) => new ListLogger(this, categoryName);

    public void Dispose()
    {
    }

    public override string ToString() => string.Join('\n', Lines);

    private sealed class ListLogger(ListLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel) && owner.Lines.Count < 2000)
            {
                owner.Lines.Enqueue($"{logLevel} {category.Split('.')[^1]}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception.Message)}");
            }
        }
    }
}
