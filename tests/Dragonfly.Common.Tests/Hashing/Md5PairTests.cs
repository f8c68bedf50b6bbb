using System.Security.Cryptography;
using Dragonfly.Common.Hashing;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Common.Tests.Hashing;

public class Md5PairTests
{
    private static readonly int[] EdgeLengths = [0, 1, 3, 4, 5, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192, 1000, 4096 + 3];

    /// <summary>Every block function this machine can run: the scalar pair always, the AVX-512VL pair where supported.</summary>
    public static TheoryData<bool> Kernels() => new(AvailableKernels());

    public static TheoryData<bool, int> KernelsAndLengths()
    {
        var data = new TheoryData<bool, int>();
        foreach (var vectorized in AvailableKernels())
        {
            foreach (var length in EdgeLengths)
            {
                data.Add(vectorized, length);
            }
        }

        return data;
    }

    private static bool[] AvailableKernels() => new Md5Pair().IsVectorized ? [false, true] : [false];

    [Fact]
    public void Constructor_Default_UsesVectorKernelExactlyWhenAvx512VlIsThere()
    {
        new Md5Pair().IsVectorized.Should().Be(System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void GetHashAndReset_NothingAppended_IsMd5OfEmpty(bool vectorized)
    {
        var md5 = new Md5Pair(vectorized);
        md5.AppendBoth([]);

        Hex(md5.GetHashAndResetFirst).Should().Be("d41d8cd98f00b204e9800998ecf8427e");
        Hex(md5.GetHashAndResetSecond).Should().Be("d41d8cd98f00b204e9800998ecf8427e");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void GetHashAndReset_Rfc1321TestSuite_MatchesPublishedDigests(bool vectorized)
    {
        (string Text, string Md5)[] suite =
        [
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
        ];
        var md5 = new Md5Pair(vectorized);
        foreach (var (text, expected) in suite)
        {
            md5.AppendBoth(System.Text.Encoding.ASCII.GetBytes(text));
            Hex(md5.GetHashAndResetFirst).Should().Be(expected);
            Hex(md5.GetHashAndResetSecond).Should().Be(expected);
        }
    }

    [Theory]
    [MemberData(nameof(KernelsAndLengths))]
    public void AppendFirstOrSecond_EdgeLengths_MatchSystemMd5(bool vectorized, int length)
    {
        var data = RandomBytes(length, seed: length);
        var md5 = new Md5Pair(vectorized);

        md5.AppendFirst(data);
        md5.AppendSecond(data.AsSpan(0, length / 2));
        md5.AppendSecond(data.AsSpan(length / 2));

        md5.LengthFirst.Should().Be(length);
        md5.LengthSecond.Should().Be(length);
        Hex(md5.GetHashAndResetFirst).Should().Be(Expected(data));
        Hex(md5.GetHashAndResetSecond).Should().Be(Expected(data));
    }

    [Theory]
    [MemberData(nameof(KernelsAndLengths))]
    public void AppendBoth_EveryPairOfStartOffsets_MatchesSystemMd5(bool vectorized, int length)
    {
        // The two streams enter with 0..64 bytes of their own, so every pair of block alignments meets AppendBoth.
        var shared = RandomBytes(length, seed: 1000 + length);
        var prefix = RandomBytes(64, seed: 7);
        var md5 = new Md5Pair(vectorized);
        for (var first = 0; first <= 64; first += first < 8 ? 1 : 7)
        {
            for (var second = 0; second <= 64; second++)
            {
                md5.AppendFirst(prefix.AsSpan(0, first));
                md5.AppendSecond(prefix.AsSpan(0, second));
                md5.AppendBoth(shared);
                md5.AppendSecond(prefix.AsSpan(0, 64 - second));

                Hex(md5.GetHashAndResetFirst).Should().Be(Expected([.. prefix.AsSpan(0, first), .. shared]), "first prefix {0}", first);
                Hex(md5.GetHashAndResetSecond).Should().Be(
                    Expected([.. prefix.AsSpan(0, second), .. shared, .. prefix.AsSpan(0, 64 - second)]), "second prefix {0}", second);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void AppendMixed_RandomChunkings_MatchSystemMd5(bool vectorized)
    {
        var random = new Random(20240611);
        var md5 = new Md5Pair(vectorized);
        for (var round = 0; round < 200; round++)
        {
            var first = new List<byte>();
            var second = new List<byte>();
            var calls = random.Next(0, 12);
            for (var call = 0; call < calls; call++)
            {
                var chunk = RandomBytes(NextLength(random), seed: random.Next());
                switch (random.Next(4))
                {
                    case 0:
                        md5.AppendFirst(chunk);
                        first.AddRange(chunk);
                        break;
                    case 1:
                        md5.AppendSecond(chunk);
                        second.AddRange(chunk);
                        break;
                    default:
                        md5.AppendBoth(chunk);
                        first.AddRange(chunk);
                        second.AddRange(chunk);
                        break;
                }
            }

            Hex(md5.GetHashAndResetFirst).Should().Be(Expected([.. first]), "round {0}", round);
            Hex(md5.GetHashAndResetSecond).Should().Be(Expected([.. second]), "round {0}", round);
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void WrappedPieces_SmallPiecesInRandomChunks_GivePieceAndFileMd5(bool vectorized)
    {
        var random = new Random(42);
        foreach (var (pieceSize, fileLength) in new[] { (69, 0), (69, 1), (69, 64), (69, 640), (133, 10_000), (1000, 99_999), (4101, 65_536) })
        {
            var file = RandomBytes(fileLength, seed: fileLength);
            HashAsWrappedPieces(new Md5Pair(vectorized), file, pieceSize, random);
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void WrappedPieces_DefaultPieceSize_GivePieceAndFileMd5(bool vectorized)
    {
        // Three 4 MiB pieces (content 4 MiB - 5 each), the last one partial, read in network-sized chunks.
        var file = RandomBytes((2 * PieceLayout.ContentPerPiece(PieceLayout.DefaultPieceSize)) + 123_457, seed: 5);
        HashAsWrappedPieces(new Md5Pair(vectorized), file, PieceLayout.DefaultPieceSize, new Random(9));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void GetCurrentHash_MidStream_LeavesStreamsGoingOn(bool vectorized)
    {
        var data = RandomBytes(300, seed: 3);
        var md5 = new Md5Pair(vectorized);
        md5.AppendSecond(data.AsSpan(0, 4));
        md5.AppendBoth(data.AsSpan(4, 100));

        Hex(md5.GetCurrentHashFirst).Should().Be(Expected(data.AsSpan(4, 100)));
        Hex(md5.GetCurrentHashSecond).Should().Be(Expected(data.AsSpan(0, 104)));

        md5.AppendBoth(data.AsSpan(104));
        Hex(md5.GetHashAndResetFirst).Should().Be(Expected(data.AsSpan(4)));
        Hex(md5.GetHashAndResetSecond).Should().Be(Expected(data));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Reset_AfterAppends_StartsOver(bool vectorized)
    {
        var data = RandomBytes(200, seed: 4);
        var md5 = new Md5Pair(vectorized);
        md5.AppendBoth(data);
        md5.ResetFirst();
        md5.AppendBoth(data.AsSpan(0, 70));
        Hex(md5.GetCurrentHashFirst).Should().Be(Expected(data.AsSpan(0, 70)));
        Hex(md5.GetCurrentHashSecond).Should().Be(Expected([.. data, .. data.AsSpan(0, 70)]));

        md5.ResetSecond();
        md5.LengthSecond.Should().Be(0);
        md5.AppendSecond(data.AsSpan(0, 70));
        Hex(md5.GetHashAndResetSecond).Should().Be(Expected(data.AsSpan(0, 70)));

        md5.AppendFirst(data);
        md5.Reset();
        md5.LengthFirst.Should().Be(0);
        Hex(md5.GetHashAndResetFirst).Should().Be(Expected([]));
    }

    [Fact]
    public void GetHashAndReset_ShortDestination_Throws()
    {
        var md5 = new Md5Pair();

        var act = () => md5.GetHashAndResetFirst(new byte[15]);

        act.Should().Throw<ArgumentException>();
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompressPair_MoreBlocksThanGiven_Throws(bool vectorized)
    {
        var first = Md5State.Create();
        var second = Md5State.Create();
        var blocks = new byte[128];

        var act = () =>
        {
            if (vectorized)
            {
                Md5Avx512.CompressPair(ref first, ref second, blocks, blocks.AsSpan(1), 2);
            }
            else
            {
                Md5Scalar.CompressPair(ref first, ref second, blocks, blocks.AsSpan(1), 2);
            }
        };

        act.Should().Throw<ArgumentOutOfRangeException>();
        first.A.Should().Be(Md5State.Create().A, "nothing is compressed when the arguments are wrong");
    }

    [Fact]
    public void Compress_MoreBlocksThanGiven_Throws()
    {
        var state = Md5State.Create();

        var act = () => Md5Scalar.Compress(ref state, new byte[127], 2);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>
    /// Hashes <paramref name="file"/> the way a CDN or a peer would: the piece stream sees head + content + tail of each
    /// wrapped piece and is reset per piece; the file stream sees the content only, across pieces. Content arrives in
    /// random chunks that do not respect block boundaries.
    /// </summary>
    private static void HashAsWrappedPieces(Md5Pair md5, byte[] file, int pieceSize, Random random)
    {
        var content = PieceLayout.ContentPerPiece(pieceSize);
        var head = new byte[PieceFrame.HeadLength];
        var wrapped = new byte[pieceSize];
        var digest = new byte[Md5Pair.HashSizeInBytes];
        var offset = 0;
        do
        {
            var length = Math.Min(content, file.Length - offset);
            var piece = file.AsSpan(offset, length);
            PieceFrame.WriteHead(head, length, pieceSize);
            md5.AppendSecond(head);
            for (var at = 0; at < length;)
            {
                var chunk = Math.Min(length - at, random.Next(4) == 0 ? random.Next(0, 70) : random.Next(0, 64 * 1024));
                md5.AppendBoth(piece.Slice(at, chunk));
                at += chunk;
            }

            md5.AppendSecond([PieceFrame.Tail]);
            md5.GetHashAndResetSecond(digest);
            var wrappedLength = PieceFrame.Wrap(piece, pieceSize, wrapped);
            Convert.ToHexStringLower(digest).Should().Be(Expected(wrapped.AsSpan(0, wrappedLength)), "piece at {0}", offset);
            offset += length;
        }
        while (offset < file.Length);

        md5.LengthFirst.Should().Be(file.Length);
        Hex(md5.GetHashAndResetFirst).Should().Be(Expected(file));
    }

    private static int NextLength(Random random) => random.Next(3) switch
    {
        0 => random.Next(0, 8),
        1 => random.Next(50, 140),
        _ => random.Next(0, 2000),
    };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Expected(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(MD5.HashData(data));

    private static string Hex(Func<Span<byte>, int> getHash)
    {
        var digest = new byte[Md5Pair.HashSizeInBytes];
        getHash(digest).Should().Be(Md5Pair.HashSizeInBytes);
        return Convert.ToHexStringLower(digest);
    }
}
