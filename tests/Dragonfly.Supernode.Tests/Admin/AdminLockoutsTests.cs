using System.Net;
using Dragonfly.Supernode.Admin;
using Dragonfly.TestCommon;

namespace Dragonfly.Supernode.Tests.Admin;

/// <summary>Lockouts after wrong admin tokens, on a clock the test moves: 3 wrong within a minute lock out for 2 minutes.</summary>
public sealed class AdminLockoutsTests
{
    private static readonly ClientAddress Guesser = Client("192.0.2.1");
    private readonly FakeTimeProvider _clock = new();
    private readonly AdminLockouts _lockouts;

    public AdminLockoutsTests() => _lockouts = New(capacity: 16);

    [Fact]
    public void Failed_LimitReachedWithinTheWindow_LocksOutForTheLockout()
    {
        _lockouts.Failed(Guesser).Should().BeNull();
        _lockouts.Failed(Guesser).Should().BeNull();
        _lockouts.IsLockedOut(Guesser, out _).Should().BeFalse();

        _lockouts.Failed(Guesser).Should().Be(new AdminLockout(Guesser, Shared: false));

        _lockouts.IsLockedOut(Guesser, out var remaining).Should().BeTrue();
        remaining.Should().Be(TimeSpan.FromMinutes(2));
        _clock.Advance(TimeSpan.FromSeconds(119));
        _lockouts.IsLockedOut(Guesser, out remaining).Should().BeTrue();
        remaining.Should().Be(TimeSpan.FromSeconds(1));
        _clock.Advance(TimeSpan.FromSeconds(1));
        _lockouts.IsLockedOut(Guesser, out _).Should().BeFalse();
    }

    [Fact]
    public void Failed_AfterALockout_CountsAfresh()
    {
        FailTimes(Guesser, 3);
        _clock.Advance(TimeSpan.FromMinutes(2));

        FailTimes(Guesser, 2).Should().BeNull();
        _lockouts.IsLockedOut(Guesser, out _).Should().BeFalse();
    }

    [Fact]
    public void Failed_SpreadOverWindows_NeverLocksOut()
    {
        FailTimes(Guesser, 2);
        _clock.Advance(TimeSpan.FromMinutes(1));
        FailTimes(Guesser, 2);

        _lockouts.IsLockedOut(Guesser, out _).Should().BeFalse();
    }

    [Fact]
    public void Failed_WhileLockedOut_DoesNotExtendTheLockout()
    {
        FailTimes(Guesser, 3);
        _clock.Advance(TimeSpan.FromMinutes(1));

        _lockouts.Failed(Guesser).Should().BeNull();

        _lockouts.IsLockedOut(Guesser, out var remaining).Should().BeTrue();
        remaining.Should().Be(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Failed_OneClient_OthersNotLockedOut()
    {
        FailTimes(Guesser, 3);

        _lockouts.IsLockedOut(Client("192.0.2.2"), out _).Should().BeFalse();
        _lockouts.IsLockedOut(ClientAddress.Unknown, out _).Should().BeFalse();
    }

    [Fact]
    public void Succeeded_ForgetsTheWrongTokensBeforeIt()
    {
        FailTimes(Guesser, 2);
        _lockouts.Succeeded(Guesser);

        FailTimes(Guesser, 2).Should().BeNull();
        _lockouts.IsLockedOut(Guesser, out _).Should().BeFalse();
    }

    [Fact]
    public void Succeeded_DuringALockout_DoesNotEndIt()
    {
        FailTimes(Guesser, 3);

        _lockouts.Succeeded(Guesser);

        _lockouts.IsLockedOut(Guesser, out _).Should().BeTrue();
    }

    [Fact]
    public void Failed_MaxFailuresZero_NeverLocksOut()
    {
        var off = new AdminLockouts(new AdminLockoutOptions(0, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)), _clock);

        for (var i = 0; i < 100; i++)
        {
            off.Failed(Guesser).Should().BeNull();
        }

        off.IsLockedOut(Guesser, out _).Should().BeFalse();
    }

    /// <summary>
    /// A guesser spraying from more addresses than are tracked: the untracked ones share one counter, so they are locked
    /// out together after the limit, and the table never grows past its capacity.
    /// </summary>
    [Fact]
    public void Failed_TableFull_UntrackedClientsShareOneCounter()
    {
        var lockouts = New(capacity: 2);
        lockouts.Failed(Client("192.0.2.1"));
        lockouts.Failed(Client("192.0.2.2"));

        lockouts.Failed(Client("198.51.100.1")).Should().BeNull();
        lockouts.Failed(Client("198.51.100.2")).Should().BeNull();
        lockouts.Failed(Client("198.51.100.3")).Should().Be(new AdminLockout(Client("198.51.100.3"), Shared: true));

        lockouts.IsLockedOut(Client("203.0.113.9"), out _).Should().BeTrue("any untracked client shares the lockout");
        lockouts.IsLockedOut(Client("192.0.2.1"), out _).Should().BeFalse("a tracked client has its own count");
    }

    [Fact]
    public void Failed_TableFullOfExpiredEntries_NewClientGetsItsOwnCounter()
    {
        var lockouts = New(capacity: 2);
        lockouts.Failed(Client("192.0.2.1"));
        lockouts.Failed(Client("192.0.2.2"));
        _clock.Advance(TimeSpan.FromMinutes(1));

        for (var i = 0; i < 3; i++)
        {
            lockouts.Failed(Client("198.51.100.1"));
        }

        lockouts.IsLockedOut(Client("198.51.100.1"), out _).Should().BeTrue();
        lockouts.IsLockedOut(Client("198.51.100.2"), out _).Should().BeFalse("the lockout is the new client's own, not shared");
    }

    private AdminLockouts New(int capacity) =>
        new(new AdminLockoutOptions(3, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)), _clock, capacity);

    private AdminLockout? FailTimes(ClientAddress client, int times)
    {
        AdminLockout? last = null;
        for (var i = 0; i < times; i++)
        {
            last = _lockouts.Failed(client);
        }

        return last;
    }

    private static ClientAddress Client(string address) => ClientAddress.Of(IPAddress.Parse(address));
}
