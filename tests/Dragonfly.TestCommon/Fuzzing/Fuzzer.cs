using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Dragonfly.TestCommon.Fuzzing;

/// <summary>
/// Runs a fuzz target: <c>ciCases</c> cases (times <see cref="FuzzSettings.Scale"/>), each with its own seeded
/// <see cref="Random"/> (<see cref="FuzzSettings.CaseSeed"/>). A case fails when its body throws (a property it asserts,
/// or an exception the target should never let out), or when it runs past its timeout: a generous bound that only a real
/// hang reaches, checked by a watchdog, so even a parser spinning on its thread fails the test instead of stalling the
/// run. The failure names the target, seed, case and input, and the command that replays that case alone.
/// </summary>
public static class Fuzzer
{
    /// <summary>The default bound of one case: far beyond any answer, short of the suite's own timeouts.</summary>
    public static readonly TimeSpan DefaultCaseTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan WatchdogPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>A synchronous target (a parser): <paramref name="body"/> runs each case on a pool thread.</summary>
    public static Task RunAsync(int ciCases, Action<FuzzCase> body, TimeSpan? caseTimeout = null, [CallerFilePath] string file = "", [CallerMemberName] string member = "")
    {
        ArgumentNullException.ThrowIfNull(body);
        return RunAsync(ciCases, c =>
        {
            body(c);
            return Task.CompletedTask;
        }, caseTimeout, file, member);
    }

    /// <summary>An asynchronous target (a server): each case is awaited before the next starts.</summary>
    public static async Task RunAsync(int ciCases, Func<FuzzCase, Task> body, TimeSpan? caseTimeout = null, [CallerFilePath] string file = "", [CallerMemberName] string member = "")
    {
        ArgumentNullException.ThrowIfNull(body);
        var settings = FuzzSettings.Current;
        var target = $"{Path.GetFileNameWithoutExtension(file.Replace('\\', '/'))}.{member}";
        var timeout = caseTimeout ?? DefaultCaseTimeout;
        var running = new RunningCase();
        var loop = Task.Run(async () =>
        {
            foreach (var index in settings.Indices(ciCases))
            {
                using var expiry = new CancellationTokenSource(timeout);
                var fuzzCase = new FuzzCase(target, index, settings.CaseSeed(target, index), expiry.Token);
                running.Start(fuzzCase);
                try
                {
                    await body(fuzzCase).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    throw new FuzzFailureException(Describe(settings, fuzzCase, ciCases, $"failed: {e.GetType().Name}: {e.Message}"), e);
                }
            }
        });

        while (await Task.WhenAny(loop, Task.Delay(WatchdogPoll)).ConfigureAwait(false) != loop)
        {
            if (running.Overdue(timeout + TimeSpan.FromSeconds(5)) is { } stuck)
            {
                throw new FuzzFailureException(Describe(settings, stuck, ciCases, $"hung: no outcome within {timeout.TotalSeconds:0} s"));
            }
        }

        await loop.ConfigureAwait(false);
    }

    private static string Describe(FuzzSettings settings, FuzzCase c, int ciCases, string what)
    {
        var input = c.Input is null ? "(not recorded)" : c.Input.Length <= 4000 ? c.Input : c.Input[..4000] + $"… ({c.Input.Length} characters)";
        return $"""
            fuzz target {c.Target} {what}
              seed {settings.Seed}, case {c.Index} of {settings.Cases(ciCases)} (scale {settings.Scale})
              replay: {FuzzSettings.SeedVariable}={settings.Seed} {FuzzSettings.CaseVariable}={c.Index} dotnet test <project> -c Release --no-build --filter "Category=Fuzz&FullyQualifiedName~{c.Target}"
              input: {input}
            """;
    }

    /// <summary>The case the loop is in and since when, for the watchdog.</summary>
    private sealed class RunningCase
    {
        private readonly Lock _lock = new();
        private FuzzCase? _case;
        private long _started;

        public void Start(FuzzCase fuzzCase)
        {
            lock (_lock)
            {
                _case = fuzzCase;
                _started = Stopwatch.GetTimestamp();
            }
        }

        public FuzzCase? Overdue(TimeSpan limit)
        {
            lock (_lock)
            {
                return _case is not null && Stopwatch.GetElapsedTime(_started) > limit ? _case : null;
            }
        }
    }
}
