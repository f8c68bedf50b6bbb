using System.Security.Cryptography;
using Dragonfly.Common.Hashing;

namespace Dragonfly.Common.Tests.Hashing;

public sealed class Md5BatcherTests
{
    /// <summary>Every block function set this machine can run: the scalar pair always, the AVX-512VL four lanes where supported.</summary>
    public static TheoryData<bool> Kernels() => new(System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported ? [false, true] : [false]);

    [Fact]
    public void Lanes_Default_FourExactlyWhenAvx512VlIsThere()
    {
        using var batcher = new Md5Batcher();
        batcher.Lanes.Should().Be(System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported ? 4 : 2);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void GetHashHex_NothingAppended_IsMd5OfEmpty(bool vectorized)
    {
        using var batcher = new Md5Batcher(vectorized);
        batcher.CreateStream().GetHashHex().Should().Be("d41d8cd98f00b204e9800998ecf8427e");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task AppendAsync_OneStreamInUnevenChunks_MatchesMd5(bool vectorized)
    {
        using var batcher = new Md5Batcher(vectorized);
        var data = RandomBytes(3 * 1024 * 1024 + 77, seed: 1);
        var md5 = batcher.CreateStream();

        // Head-sized, odd, inline-sized and large chunks, so partial blocks straddle every kind of append.
        int[] chunks = [4, 1, 63, 64, 65, Md5Batcher.InlineBytes - 1, Md5Batcher.InlineBytes, 1024 * 1024 + 5, 3];
        var offset = 0;
        var i = 0;
        while (offset < data.Length)
        {
            var take = Math.Min(chunks[i++ % chunks.Length], data.Length - offset);
            await md5.AppendAsync(data.AsMemory(offset, take));
            offset += take;
        }

        md5.Length.Should().Be(data.Length);
        md5.GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(data)));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task AppendAsync_ManyStreamsAtOnce_EachMatchesItsMd5AndRoundsAreShared(bool vectorized)
    {
        using var batcher = new Md5Batcher(vectorized);
        // Seven streams of different lengths (so lanes drop out at different rounds), all appending concurrently.
        var inputs = Enumerable.Range(0, 7).Select(n => RandomBytes((8 * 1024 * 1024) + (n * 4099), seed: 10 + n)).ToArray();
        var streams = inputs.Select(_ => batcher.CreateStream()).ToArray();

        await Task.WhenAll(inputs.Select(async (input, n) =>
        {
            for (var offset = 0; offset < input.Length; offset += 512 * 1024)
            {
                await streams[n].AppendAsync(input.AsMemory(offset, Math.Min(512 * 1024, input.Length - offset)));
            }
        }));

        for (var n = 0; n < inputs.Length; n++)
        {
            streams[n].GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(inputs[n])), $"stream {n}");
        }

        batcher.SharedRounds.Should().BePositive("streams with bytes waiting at the same time share a round");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task AppendAsync_LeadingStreamBesidePieceStreams_EachMatchesItsMd5(bool vectorized)
    {
        using var batcher = new Md5Batcher(vectorized);
        var file = RandomBytes(6 * 1024 * 1024 + 13, seed: 20);
        var pieces = Enumerable.Range(0, 5).Select(n => RandomBytes((2 * 1024 * 1024) + (n * 977), seed: 30 + n)).ToArray();
        var leading = batcher.CreateLeadingStream();
        var streams = pieces.Select(_ => batcher.CreateStream()).ToArray();

        // The file in order, 256 KiB per append as dfget reads it, while the pieces arrive in 512 KiB chunks.
        var fileTask = Task.Run(async () =>
        {
            for (var offset = 0; offset < file.Length; offset += 256 * 1024)
            {
                await leading.AppendAsync(file.AsMemory(offset, Math.Min(256 * 1024, file.Length - offset)));
            }
        });
        await Task.WhenAll(pieces.Select(async (input, n) =>
        {
            for (var offset = 0; offset < input.Length; offset += 512 * 1024)
            {
                await streams[n].AppendAsync(input.AsMemory(offset, Math.Min(512 * 1024, input.Length - offset)));
            }
        }).Append(fileTask));

        leading.GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(file)));
        for (var n = 0; n < pieces.Length; n++)
        {
            streams[n].GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(pieces[n])), $"piece stream {n}");
        }
    }

    [Fact]
    public async Task AppendAsync_LeadingStreamWhileEveryLaneIsBusy_TakesALaneBeforeTheOthersFinish()
    {
        // Two scalar lanes, both busy with long appends (one buffer, hashed twice): a leading stream must not wait for
        // either to finish.
        using var batcher = new Md5Batcher(vectorized: false);
        var big = RandomBytes(128 * 1024 * 1024, seed: 40);
        var small = RandomBytes(256 * 1024, seed: 41);
        var first = batcher.CreateStream();
        var second = batcher.CreateStream();
        var leading = batcher.CreateLeadingStream();

        var firstDone = first.AppendAsync(big).AsTask();
        var secondDone = second.AppendAsync(big).AsTask();
        // Both big streams hold a lane once a round has hashed them together.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (batcher.SharedRounds == 0 && !secondDone.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Yield();
        }

        var leadingDone = leading.AppendAsync(small).AsTask();
        // 256 KiB is 8 rounds; each 128 MiB append is 4,096, hashed side by side (each round a shared one). With more
        // than 8 rounds left for them, only a pre-empted lane lets the leading stream finish first.
        var lanesWereBusy = batcher.SharedRounds < 4_000 && !firstDone.IsCompleted && !secondDone.IsCompleted;

        // Completion order, taken as each task completes rather than when this thread gets to look: on a loaded machine
        // the test's own continuation can run long after the leading stream finished.
        var order = 0;
        var leadingOrder = leadingDone.ContinueWith(_ => Interlocked.Increment(ref order), TaskContinuationOptions.ExecuteSynchronously);
        var firstOrder = firstDone.ContinueWith(_ => Interlocked.Increment(ref order), TaskContinuationOptions.ExecuteSynchronously);
        var secondOrder = secondDone.ContinueWith(_ => Interlocked.Increment(ref order), TaskContinuationOptions.ExecuteSynchronously);
        await Task.WhenAll(leadingDone, firstDone, secondDone);

        leading.GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(small)));
        first.GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(big)));
        second.GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(big)));
        if (lanesWereBusy)
        {
            (await leadingOrder).Should().BeLessThan(Math.Min(await firstOrder, await secondOrder), "the leading stream takes a busy lane between rounds");
        }
    }

    [Fact]
    public void PartnerHold_FewerReadyThanLately_WaitsOutThePartnerWait()
    {
        Md5Batcher.PartnerHold(ready: 1, recentWidth: 4, anyLeading: false, waited: TimeSpan.Zero).Should().Be(Md5Batcher.PartnerWait);
        Md5Batcher.PartnerHold(ready: 2, recentWidth: 3, anyLeading: false, waited: Md5Batcher.PartnerWait / 2).Should().BeGreaterThan(TimeSpan.Zero);
    }

    [Fact]
    public void PartnerHold_LeadingStreamReady_NoWait()
    {
        // A file hashed in order waits for every append: holding it 2 ms per 256 KiB would cap it near 128 MB/s.
        Md5Batcher.PartnerHold(ready: 1, recentWidth: 4, anyLeading: true, waited: TimeSpan.Zero).Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void PartnerHold_AsManyAsLatelyOrWaitedEnough_NoWait()
    {
        Md5Batcher.PartnerHold(ready: 4, recentWidth: 4, anyLeading: false, waited: TimeSpan.Zero).Should().Be(TimeSpan.Zero);
        Md5Batcher.PartnerHold(ready: 1, recentWidth: 1, anyLeading: false, waited: TimeSpan.Zero).Should().Be(TimeSpan.Zero);
        Md5Batcher.PartnerHold(ready: 1, recentWidth: 4, anyLeading: false, waited: Md5Batcher.PartnerWait).Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task AppendAsync_WhileAnotherAppendRuns_Throws()
    {
        using var batcher = new Md5Batcher();
        var md5 = batcher.CreateStream();
        var big = RandomBytes(32 * 1024 * 1024, seed: 3);

        var first = md5.AppendAsync(big);
        var second = () => md5.AppendAsync(big.AsMemory(0, 64));
        var digest = () => md5.GetHashHex();

        if (!first.IsCompleted)
        {
            second.Should().Throw<InvalidOperationException>();
            digest.Should().Throw<InvalidOperationException>();
        }

        await first;
        md5.GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(big)));
    }

    [Fact]
    public void AppendAsync_AfterTheDigest_Throws()
    {
        using var batcher = new Md5Batcher();
        var md5 = batcher.CreateStream();
        md5.GetHashHex();

        var append = () => md5.AppendAsync(new byte[10]);
        append.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task AppendAsync_AfterDispose_IsHashedOnTheCallersThread()
    {
        var batcher = new Md5Batcher();
        var md5 = batcher.CreateStream();
        batcher.Dispose();
        var data = RandomBytes(Md5Batcher.InlineBytes * 3, seed: 4);

        var append = md5.AppendAsync(data);

        append.IsCompletedSuccessfully.Should().BeTrue();
        await append;
        md5.GetHashHex().Should().Be(Convert.ToHexStringLower(MD5.HashData(data)));
        batcher.IsWorkerRunning.Should().BeFalse();
    }

    [Fact]
    public async Task Worker_EndsWhenIdle_AndALaterAppendStartsItAgain()
    {
        using var batcher = new Md5Batcher(System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported, TimeSpan.FromMilliseconds(50));
        var data = RandomBytes(Md5Batcher.InlineBytes * 4, seed: 5);
        var before = batcher.CreateStream();
        await before.AppendAsync(data);

        await WaitUntilAsync(() => !batcher.IsWorkerRunning);
        var after = batcher.CreateStream();
        await after.AppendAsync(data).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        after.GetHashHex().Should().Be(before.GetHashHex());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(20);
        }

        condition().Should().BeTrue();
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
