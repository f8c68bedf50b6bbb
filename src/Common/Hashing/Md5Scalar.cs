using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dragonfly.Common.Hashing;

/// <summary>
/// The MD5 block function (RFC 1321 section 3.4) in plain scalar code: every step unrolled with its shift inline, the
/// chaining words in locals, each round constant inline and each message word read from the block where the step needs it.
/// </summary>
/// <remarks>
/// <para>
/// MD5 is one chain of dependent steps (each needs the previous step's result), so a single stream runs at the
/// latency of that chain, 4-5 cycles a byte, and leaves most of the core's ALUs idle. <see cref="CompressPair"/>
/// runs two independent streams' steps side by side in one loop, so the core overlaps them: two digests for not much
/// more than the time of one.
/// </para>
/// <para>
/// The kernels are <see cref="MethodImplOptions.AggressiveOptimization"/>: jitted fully optimized on first call, which
/// matters in processes that put tier-1 off (DeferTier1Jit), where the unrolled body would otherwise run as tier-0 code
/// for the first 65,535 calls. The chaining words are added back into the state in memory after each block rather
/// than kept in extra locals, which leaves more registers to the two interleaved chains.
/// </para>
/// </remarks>
internal static class Md5Scalar
{
    /// <summary>Compresses <paramref name="count"/> consecutive 64-byte blocks from <paramref name="blocks"/> into <paramref name="state"/>.</summary>
    public static void Compress(ref Md5State state, ReadOnlySpan<byte> blocks, int count)
    {
        if ((uint)count > (uint)(blocks.Length / Md5State.BlockSize))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        Compress(ref state, ref MemoryMarshal.GetReference(blocks), count);
    }

    /// <summary>
    /// Compresses <paramref name="count"/> blocks into each of two streams at once: block <c>n</c> of
    /// <paramref name="first"/> comes from <paramref name="firstBlocks"/>, block <c>n</c> of <paramref name="second"/>
    /// from <paramref name="secondBlocks"/> (which may be the same or overlapping memory).
    /// </summary>
    public static void CompressPair(ref Md5State first, ref Md5State second, ReadOnlySpan<byte> firstBlocks, ReadOnlySpan<byte> secondBlocks, int count)
    {
        if ((uint)count > (uint)(firstBlocks.Length / Md5State.BlockSize) || count > secondBlocks.Length / Md5State.BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        CompressPair(
            ref first,
            ref second,
            ref MemoryMarshal.GetReference(firstBlocks),
            ref MemoryMarshal.GetReference(secondBlocks),
            count);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Compress(ref Md5State state, ref byte p, int count)
    {
        uint a = state.A, b = state.B, c = state.C, d = state.D;
        for (var n = 0; n < count; n++)
        {
            // Round 1: F(b, c, d) = (b & c) | (~b & d), words in order.
            a = F(a, b, c, d, X(ref p, 0), 0xd76aa478, 7);
            d = F(d, a, b, c, X(ref p, 1), 0xe8c7b756, 12);
            c = F(c, d, a, b, X(ref p, 2), 0x242070db, 17);
            b = F(b, c, d, a, X(ref p, 3), 0xc1bdceee, 22);
            a = F(a, b, c, d, X(ref p, 4), 0xf57c0faf, 7);
            d = F(d, a, b, c, X(ref p, 5), 0x4787c62a, 12);
            c = F(c, d, a, b, X(ref p, 6), 0xa8304613, 17);
            b = F(b, c, d, a, X(ref p, 7), 0xfd469501, 22);
            a = F(a, b, c, d, X(ref p, 8), 0x698098d8, 7);
            d = F(d, a, b, c, X(ref p, 9), 0x8b44f7af, 12);
            c = F(c, d, a, b, X(ref p, 10), 0xffff5bb1, 17);
            b = F(b, c, d, a, X(ref p, 11), 0x895cd7be, 22);
            a = F(a, b, c, d, X(ref p, 12), 0x6b901122, 7);
            d = F(d, a, b, c, X(ref p, 13), 0xfd987193, 12);
            c = F(c, d, a, b, X(ref p, 14), 0xa679438e, 17);
            b = F(b, c, d, a, X(ref p, 15), 0x49b40821, 22);

            // Round 2: G(b, c, d) = (b & d) | (c & ~d), words 5i + 1.
            a = G(a, b, c, d, X(ref p, 1), 0xf61e2562, 5);
            d = G(d, a, b, c, X(ref p, 6), 0xc040b340, 9);
            c = G(c, d, a, b, X(ref p, 11), 0x265e5a51, 14);
            b = G(b, c, d, a, X(ref p, 0), 0xe9b6c7aa, 20);
            a = G(a, b, c, d, X(ref p, 5), 0xd62f105d, 5);
            d = G(d, a, b, c, X(ref p, 10), 0x02441453, 9);
            c = G(c, d, a, b, X(ref p, 15), 0xd8a1e681, 14);
            b = G(b, c, d, a, X(ref p, 4), 0xe7d3fbc8, 20);
            a = G(a, b, c, d, X(ref p, 9), 0x21e1cde6, 5);
            d = G(d, a, b, c, X(ref p, 14), 0xc33707d6, 9);
            c = G(c, d, a, b, X(ref p, 3), 0xf4d50d87, 14);
            b = G(b, c, d, a, X(ref p, 8), 0x455a14ed, 20);
            a = G(a, b, c, d, X(ref p, 13), 0xa9e3e905, 5);
            d = G(d, a, b, c, X(ref p, 2), 0xfcefa3f8, 9);
            c = G(c, d, a, b, X(ref p, 7), 0x676f02d9, 14);
            b = G(b, c, d, a, X(ref p, 12), 0x8d2a4c8a, 20);

            // Round 3: H(b, c, d) = b ^ c ^ d, words 3i + 5.
            a = H(a, b, c, d, X(ref p, 5), 0xfffa3942, 4);
            d = H(d, a, b, c, X(ref p, 8), 0x8771f681, 11);
            c = H(c, d, a, b, X(ref p, 11), 0x6d9d6122, 16);
            b = H(b, c, d, a, X(ref p, 14), 0xfde5380c, 23);
            a = H(a, b, c, d, X(ref p, 1), 0xa4beea44, 4);
            d = H(d, a, b, c, X(ref p, 4), 0x4bdecfa9, 11);
            c = H(c, d, a, b, X(ref p, 7), 0xf6bb4b60, 16);
            b = H(b, c, d, a, X(ref p, 10), 0xbebfbc70, 23);
            a = H(a, b, c, d, X(ref p, 13), 0x289b7ec6, 4);
            d = H(d, a, b, c, X(ref p, 0), 0xeaa127fa, 11);
            c = H(c, d, a, b, X(ref p, 3), 0xd4ef3085, 16);
            b = H(b, c, d, a, X(ref p, 6), 0x04881d05, 23);
            a = H(a, b, c, d, X(ref p, 9), 0xd9d4d039, 4);
            d = H(d, a, b, c, X(ref p, 12), 0xe6db99e5, 11);
            c = H(c, d, a, b, X(ref p, 15), 0x1fa27cf8, 16);
            b = H(b, c, d, a, X(ref p, 2), 0xc4ac5665, 23);

            // Round 4: I(b, c, d) = c ^ (b | ~d), words 7i.
            a = I(a, b, c, d, X(ref p, 0), 0xf4292244, 6);
            d = I(d, a, b, c, X(ref p, 7), 0x432aff97, 10);
            c = I(c, d, a, b, X(ref p, 14), 0xab9423a7, 15);
            b = I(b, c, d, a, X(ref p, 5), 0xfc93a039, 21);
            a = I(a, b, c, d, X(ref p, 12), 0x655b59c3, 6);
            d = I(d, a, b, c, X(ref p, 3), 0x8f0ccc92, 10);
            c = I(c, d, a, b, X(ref p, 10), 0xffeff47d, 15);
            b = I(b, c, d, a, X(ref p, 1), 0x85845dd1, 21);
            a = I(a, b, c, d, X(ref p, 8), 0x6fa87e4f, 6);
            d = I(d, a, b, c, X(ref p, 15), 0xfe2ce6e0, 10);
            c = I(c, d, a, b, X(ref p, 6), 0xa3014314, 15);
            b = I(b, c, d, a, X(ref p, 13), 0x4e0811a1, 21);
            a = I(a, b, c, d, X(ref p, 4), 0xf7537e82, 6);
            d = I(d, a, b, c, X(ref p, 11), 0xbd3af235, 10);
            c = I(c, d, a, b, X(ref p, 2), 0x2ad7d2bb, 15);
            b = I(b, c, d, a, X(ref p, 9), 0xeb86d391, 21);

            state.A = a += state.A;
            state.B = b += state.B;
            state.C = c += state.C;
            state.D = d += state.D;
            p = ref Unsafe.Add(ref p, Md5State.BlockSize);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void CompressPair(ref Md5State first, ref Md5State second, ref byte p1, ref byte p2, int count)
    {
        uint a1 = first.A, b1 = first.B, c1 = first.C, d1 = first.D;
        uint a2 = second.A, b2 = second.B, c2 = second.C, d2 = second.D;
        for (var n = 0; n < count; n++)
        {
            // Round 1: F(b, c, d) = (b & c) | (~b & d), words in order.
            a1 = F(a1, b1, c1, d1, X(ref p1, 0), 0xd76aa478, 7);
            a2 = F(a2, b2, c2, d2, X(ref p2, 0), 0xd76aa478, 7);
            d1 = F(d1, a1, b1, c1, X(ref p1, 1), 0xe8c7b756, 12);
            d2 = F(d2, a2, b2, c2, X(ref p2, 1), 0xe8c7b756, 12);
            c1 = F(c1, d1, a1, b1, X(ref p1, 2), 0x242070db, 17);
            c2 = F(c2, d2, a2, b2, X(ref p2, 2), 0x242070db, 17);
            b1 = F(b1, c1, d1, a1, X(ref p1, 3), 0xc1bdceee, 22);
            b2 = F(b2, c2, d2, a2, X(ref p2, 3), 0xc1bdceee, 22);
            a1 = F(a1, b1, c1, d1, X(ref p1, 4), 0xf57c0faf, 7);
            a2 = F(a2, b2, c2, d2, X(ref p2, 4), 0xf57c0faf, 7);
            d1 = F(d1, a1, b1, c1, X(ref p1, 5), 0x4787c62a, 12);
            d2 = F(d2, a2, b2, c2, X(ref p2, 5), 0x4787c62a, 12);
            c1 = F(c1, d1, a1, b1, X(ref p1, 6), 0xa8304613, 17);
            c2 = F(c2, d2, a2, b2, X(ref p2, 6), 0xa8304613, 17);
            b1 = F(b1, c1, d1, a1, X(ref p1, 7), 0xfd469501, 22);
            b2 = F(b2, c2, d2, a2, X(ref p2, 7), 0xfd469501, 22);
            a1 = F(a1, b1, c1, d1, X(ref p1, 8), 0x698098d8, 7);
            a2 = F(a2, b2, c2, d2, X(ref p2, 8), 0x698098d8, 7);
            d1 = F(d1, a1, b1, c1, X(ref p1, 9), 0x8b44f7af, 12);
            d2 = F(d2, a2, b2, c2, X(ref p2, 9), 0x8b44f7af, 12);
            c1 = F(c1, d1, a1, b1, X(ref p1, 10), 0xffff5bb1, 17);
            c2 = F(c2, d2, a2, b2, X(ref p2, 10), 0xffff5bb1, 17);
            b1 = F(b1, c1, d1, a1, X(ref p1, 11), 0x895cd7be, 22);
            b2 = F(b2, c2, d2, a2, X(ref p2, 11), 0x895cd7be, 22);
            a1 = F(a1, b1, c1, d1, X(ref p1, 12), 0x6b901122, 7);
            a2 = F(a2, b2, c2, d2, X(ref p2, 12), 0x6b901122, 7);
            d1 = F(d1, a1, b1, c1, X(ref p1, 13), 0xfd987193, 12);
            d2 = F(d2, a2, b2, c2, X(ref p2, 13), 0xfd987193, 12);
            c1 = F(c1, d1, a1, b1, X(ref p1, 14), 0xa679438e, 17);
            c2 = F(c2, d2, a2, b2, X(ref p2, 14), 0xa679438e, 17);
            b1 = F(b1, c1, d1, a1, X(ref p1, 15), 0x49b40821, 22);
            b2 = F(b2, c2, d2, a2, X(ref p2, 15), 0x49b40821, 22);

            // Round 2: G(b, c, d) = (b & d) | (c & ~d), words 5i + 1.
            a1 = G(a1, b1, c1, d1, X(ref p1, 1), 0xf61e2562, 5);
            a2 = G(a2, b2, c2, d2, X(ref p2, 1), 0xf61e2562, 5);
            d1 = G(d1, a1, b1, c1, X(ref p1, 6), 0xc040b340, 9);
            d2 = G(d2, a2, b2, c2, X(ref p2, 6), 0xc040b340, 9);
            c1 = G(c1, d1, a1, b1, X(ref p1, 11), 0x265e5a51, 14);
            c2 = G(c2, d2, a2, b2, X(ref p2, 11), 0x265e5a51, 14);
            b1 = G(b1, c1, d1, a1, X(ref p1, 0), 0xe9b6c7aa, 20);
            b2 = G(b2, c2, d2, a2, X(ref p2, 0), 0xe9b6c7aa, 20);
            a1 = G(a1, b1, c1, d1, X(ref p1, 5), 0xd62f105d, 5);
            a2 = G(a2, b2, c2, d2, X(ref p2, 5), 0xd62f105d, 5);
            d1 = G(d1, a1, b1, c1, X(ref p1, 10), 0x02441453, 9);
            d2 = G(d2, a2, b2, c2, X(ref p2, 10), 0x02441453, 9);
            c1 = G(c1, d1, a1, b1, X(ref p1, 15), 0xd8a1e681, 14);
            c2 = G(c2, d2, a2, b2, X(ref p2, 15), 0xd8a1e681, 14);
            b1 = G(b1, c1, d1, a1, X(ref p1, 4), 0xe7d3fbc8, 20);
            b2 = G(b2, c2, d2, a2, X(ref p2, 4), 0xe7d3fbc8, 20);
            a1 = G(a1, b1, c1, d1, X(ref p1, 9), 0x21e1cde6, 5);
            a2 = G(a2, b2, c2, d2, X(ref p2, 9), 0x21e1cde6, 5);
            d1 = G(d1, a1, b1, c1, X(ref p1, 14), 0xc33707d6, 9);
            d2 = G(d2, a2, b2, c2, X(ref p2, 14), 0xc33707d6, 9);
            c1 = G(c1, d1, a1, b1, X(ref p1, 3), 0xf4d50d87, 14);
            c2 = G(c2, d2, a2, b2, X(ref p2, 3), 0xf4d50d87, 14);
            b1 = G(b1, c1, d1, a1, X(ref p1, 8), 0x455a14ed, 20);
            b2 = G(b2, c2, d2, a2, X(ref p2, 8), 0x455a14ed, 20);
            a1 = G(a1, b1, c1, d1, X(ref p1, 13), 0xa9e3e905, 5);
            a2 = G(a2, b2, c2, d2, X(ref p2, 13), 0xa9e3e905, 5);
            d1 = G(d1, a1, b1, c1, X(ref p1, 2), 0xfcefa3f8, 9);
            d2 = G(d2, a2, b2, c2, X(ref p2, 2), 0xfcefa3f8, 9);
            c1 = G(c1, d1, a1, b1, X(ref p1, 7), 0x676f02d9, 14);
            c2 = G(c2, d2, a2, b2, X(ref p2, 7), 0x676f02d9, 14);
            b1 = G(b1, c1, d1, a1, X(ref p1, 12), 0x8d2a4c8a, 20);
            b2 = G(b2, c2, d2, a2, X(ref p2, 12), 0x8d2a4c8a, 20);

            // Round 3: H(b, c, d) = b ^ c ^ d, words 3i + 5.
            a1 = H(a1, b1, c1, d1, X(ref p1, 5), 0xfffa3942, 4);
            a2 = H(a2, b2, c2, d2, X(ref p2, 5), 0xfffa3942, 4);
            d1 = H(d1, a1, b1, c1, X(ref p1, 8), 0x8771f681, 11);
            d2 = H(d2, a2, b2, c2, X(ref p2, 8), 0x8771f681, 11);
            c1 = H(c1, d1, a1, b1, X(ref p1, 11), 0x6d9d6122, 16);
            c2 = H(c2, d2, a2, b2, X(ref p2, 11), 0x6d9d6122, 16);
            b1 = H(b1, c1, d1, a1, X(ref p1, 14), 0xfde5380c, 23);
            b2 = H(b2, c2, d2, a2, X(ref p2, 14), 0xfde5380c, 23);
            a1 = H(a1, b1, c1, d1, X(ref p1, 1), 0xa4beea44, 4);
            a2 = H(a2, b2, c2, d2, X(ref p2, 1), 0xa4beea44, 4);
            d1 = H(d1, a1, b1, c1, X(ref p1, 4), 0x4bdecfa9, 11);
            d2 = H(d2, a2, b2, c2, X(ref p2, 4), 0x4bdecfa9, 11);
            c1 = H(c1, d1, a1, b1, X(ref p1, 7), 0xf6bb4b60, 16);
            c2 = H(c2, d2, a2, b2, X(ref p2, 7), 0xf6bb4b60, 16);
            b1 = H(b1, c1, d1, a1, X(ref p1, 10), 0xbebfbc70, 23);
            b2 = H(b2, c2, d2, a2, X(ref p2, 10), 0xbebfbc70, 23);
            a1 = H(a1, b1, c1, d1, X(ref p1, 13), 0x289b7ec6, 4);
            a2 = H(a2, b2, c2, d2, X(ref p2, 13), 0x289b7ec6, 4);
            d1 = H(d1, a1, b1, c1, X(ref p1, 0), 0xeaa127fa, 11);
            d2 = H(d2, a2, b2, c2, X(ref p2, 0), 0xeaa127fa, 11);
            c1 = H(c1, d1, a1, b1, X(ref p1, 3), 0xd4ef3085, 16);
            c2 = H(c2, d2, a2, b2, X(ref p2, 3), 0xd4ef3085, 16);
            b1 = H(b1, c1, d1, a1, X(ref p1, 6), 0x04881d05, 23);
            b2 = H(b2, c2, d2, a2, X(ref p2, 6), 0x04881d05, 23);
            a1 = H(a1, b1, c1, d1, X(ref p1, 9), 0xd9d4d039, 4);
            a2 = H(a2, b2, c2, d2, X(ref p2, 9), 0xd9d4d039, 4);
            d1 = H(d1, a1, b1, c1, X(ref p1, 12), 0xe6db99e5, 11);
            d2 = H(d2, a2, b2, c2, X(ref p2, 12), 0xe6db99e5, 11);
            c1 = H(c1, d1, a1, b1, X(ref p1, 15), 0x1fa27cf8, 16);
            c2 = H(c2, d2, a2, b2, X(ref p2, 15), 0x1fa27cf8, 16);
            b1 = H(b1, c1, d1, a1, X(ref p1, 2), 0xc4ac5665, 23);
            b2 = H(b2, c2, d2, a2, X(ref p2, 2), 0xc4ac5665, 23);

            // Round 4: I(b, c, d) = c ^ (b | ~d), words 7i.
            a1 = I(a1, b1, c1, d1, X(ref p1, 0), 0xf4292244, 6);
            a2 = I(a2, b2, c2, d2, X(ref p2, 0), 0xf4292244, 6);
            d1 = I(d1, a1, b1, c1, X(ref p1, 7), 0x432aff97, 10);
            d2 = I(d2, a2, b2, c2, X(ref p2, 7), 0x432aff97, 10);
            c1 = I(c1, d1, a1, b1, X(ref p1, 14), 0xab9423a7, 15);
            c2 = I(c2, d2, a2, b2, X(ref p2, 14), 0xab9423a7, 15);
            b1 = I(b1, c1, d1, a1, X(ref p1, 5), 0xfc93a039, 21);
            b2 = I(b2, c2, d2, a2, X(ref p2, 5), 0xfc93a039, 21);
            a1 = I(a1, b1, c1, d1, X(ref p1, 12), 0x655b59c3, 6);
            a2 = I(a2, b2, c2, d2, X(ref p2, 12), 0x655b59c3, 6);
            d1 = I(d1, a1, b1, c1, X(ref p1, 3), 0x8f0ccc92, 10);
            d2 = I(d2, a2, b2, c2, X(ref p2, 3), 0x8f0ccc92, 10);
            c1 = I(c1, d1, a1, b1, X(ref p1, 10), 0xffeff47d, 15);
            c2 = I(c2, d2, a2, b2, X(ref p2, 10), 0xffeff47d, 15);
            b1 = I(b1, c1, d1, a1, X(ref p1, 1), 0x85845dd1, 21);
            b2 = I(b2, c2, d2, a2, X(ref p2, 1), 0x85845dd1, 21);
            a1 = I(a1, b1, c1, d1, X(ref p1, 8), 0x6fa87e4f, 6);
            a2 = I(a2, b2, c2, d2, X(ref p2, 8), 0x6fa87e4f, 6);
            d1 = I(d1, a1, b1, c1, X(ref p1, 15), 0xfe2ce6e0, 10);
            d2 = I(d2, a2, b2, c2, X(ref p2, 15), 0xfe2ce6e0, 10);
            c1 = I(c1, d1, a1, b1, X(ref p1, 6), 0xa3014314, 15);
            c2 = I(c2, d2, a2, b2, X(ref p2, 6), 0xa3014314, 15);
            b1 = I(b1, c1, d1, a1, X(ref p1, 13), 0x4e0811a1, 21);
            b2 = I(b2, c2, d2, a2, X(ref p2, 13), 0x4e0811a1, 21);
            a1 = I(a1, b1, c1, d1, X(ref p1, 4), 0xf7537e82, 6);
            a2 = I(a2, b2, c2, d2, X(ref p2, 4), 0xf7537e82, 6);
            d1 = I(d1, a1, b1, c1, X(ref p1, 11), 0xbd3af235, 10);
            d2 = I(d2, a2, b2, c2, X(ref p2, 11), 0xbd3af235, 10);
            c1 = I(c1, d1, a1, b1, X(ref p1, 2), 0x2ad7d2bb, 15);
            c2 = I(c2, d2, a2, b2, X(ref p2, 2), 0x2ad7d2bb, 15);
            b1 = I(b1, c1, d1, a1, X(ref p1, 9), 0xeb86d391, 21);
            b2 = I(b2, c2, d2, a2, X(ref p2, 9), 0xeb86d391, 21);

            first.A = a1 += first.A;
            first.B = b1 += first.B;
            first.C = c1 += first.C;
            first.D = d1 += first.D;
            second.A = a2 += second.A;
            second.B = b2 += second.B;
            second.C = c2 += second.C;
            second.D = d2 += second.D;
            p1 = ref Unsafe.Add(ref p1, Md5State.BlockSize);
            p2 = ref Unsafe.Add(ref p2, Md5State.BlockSize);
        }
    }

    /// <summary>Message word <paramref name="index"/> (little-endian) of the block at <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint X(ref byte block, int index)
    {
        var word = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, index * sizeof(uint)));
        return BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word);
    }

    // The four step functions. Each is written so the part that waits on b (the previous step's result) is as short as
    // possible: everything built from a, c, d, the word and the constant can be computed while b is still in flight.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint F(uint a, uint b, uint c, uint d, uint x, uint k, int s) =>
        b + BitOperations.RotateLeft(a + x + k + (d ^ (b & (c ^ d))), s);

    // (b & d) | (c & ~d): the two terms never share a set bit, so | is +, and c & ~d joins the off-path sum.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint G(uint a, uint b, uint c, uint d, uint x, uint k, int s) =>
        b + BitOperations.RotateLeft(a + x + k + (c & ~d) + (b & d), s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint H(uint a, uint b, uint c, uint d, uint x, uint k, int s) =>
        b + BitOperations.RotateLeft(a + x + k + (b ^ (c ^ d)), s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint I(uint a, uint b, uint c, uint d, uint x, uint k, int s) =>
        b + BitOperations.RotateLeft(a + x + k + (c ^ (b | ~d)), s);
}
