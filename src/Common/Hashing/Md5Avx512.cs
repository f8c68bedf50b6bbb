using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dragonfly.Common.Hashing;

/// <summary>The message words of two blocks interleaved: word <c>k</c> of the first block, then word <c>k</c> of the second.</summary>
[InlineArray(Md5State.BlockSize / sizeof(uint))]
internal struct Md5WordPairs
{
    private ulong _element0;
}

/// <summary>
/// The MD5 block function for two streams at once, in the two low lanes of a <see cref="Vector128{T}"/> with
/// AVX-512VL: each step's boolean function is one <c>vpternlogd</c> and its rotation one <c>vprold</c>, so a step is a
/// chain of four instructions (ternary logic, add, rotate, add) for both streams together. The upper two lanes carry
/// values nobody reads.
/// </summary>
/// <remarks>
/// <para>
/// Per block pair the sixteen message words of both blocks are interleaved once (<c>punpckldq</c>/<c>punpckhdq</c>) into
/// a 128-byte local, so each step fetches its pair of words with one 8-byte load, inside one earlier 16-byte store.
/// </para>
/// <para>
/// Timing on the AMD EPYC (Zen 4) this was measured on: <c>vprold</c> has a 2-cycle latency there (1 on Intel
/// AVX-512 cores, by the published tables; not measured), so a step takes 5 cycles for both streams, against 4-5 for
/// one stream of scalar code: two digests for 1.05 times the CPU of one. Keep <c>b</c>, the previous step's result, as the first operand of
/// <c>TernaryLogic</c>: the JIT then copies it into the destination register (an eliminated move); with an older value
/// there and <c>b</c> as a source operand the same chain measured 6 cycles a step.
/// </para>
/// <para>Callers check <see cref="IsSupported"/>; <see cref="Md5Scalar.CompressPair"/> is the fallback.</para>
/// </remarks>
internal static class Md5Avx512
{
    public static bool IsSupported => Avx512F.VL.IsSupported;

    /// <summary>Same contract as <see cref="Md5Scalar.CompressPair"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CompressPair(ref Md5State first, ref Md5State second, ReadOnlySpan<byte> firstBlocks, ReadOnlySpan<byte> secondBlocks, int count)
    {
        if (!Avx512F.VL.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        if ((uint)count > (uint)(firstBlocks.Length / Md5State.BlockSize) || count > secondBlocks.Length / Md5State.BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        ref var p1 = ref MemoryMarshal.GetReference(firstBlocks);
        ref var p2 = ref MemoryMarshal.GetReference(secondBlocks);
        var a = Vector128.Create(first.A, second.A, 0, 0);
        var b = Vector128.Create(first.B, second.B, 0, 0);
        var c = Vector128.Create(first.C, second.C, 0, 0);
        var d = Vector128.Create(first.D, second.D, 0, 0);
        var words = default(Md5WordPairs);
        ref var w = ref Unsafe.As<Md5WordPairs, byte>(ref words);
        for (var n = 0; n < count; n++)
        {
            Interleave(ref p1, ref p2, ref w, 0);
            Interleave(ref p1, ref p2, ref w, 16);
            Interleave(ref p1, ref p2, ref w, 32);
            Interleave(ref p1, ref p2, ref w, 48);
            var a0 = a;
            var b0 = b;
            var c0 = c;
            var d0 = d;

            // Round 1: F = (b & c) | (~b & d).
            a = F(a, b, c, d, W(ref w, 0), 0xd76aa478, 7);
            d = F(d, a, b, c, W(ref w, 1), 0xe8c7b756, 12);
            c = F(c, d, a, b, W(ref w, 2), 0x242070db, 17);
            b = F(b, c, d, a, W(ref w, 3), 0xc1bdceee, 22);
            a = F(a, b, c, d, W(ref w, 4), 0xf57c0faf, 7);
            d = F(d, a, b, c, W(ref w, 5), 0x4787c62a, 12);
            c = F(c, d, a, b, W(ref w, 6), 0xa8304613, 17);
            b = F(b, c, d, a, W(ref w, 7), 0xfd469501, 22);
            a = F(a, b, c, d, W(ref w, 8), 0x698098d8, 7);
            d = F(d, a, b, c, W(ref w, 9), 0x8b44f7af, 12);
            c = F(c, d, a, b, W(ref w, 10), 0xffff5bb1, 17);
            b = F(b, c, d, a, W(ref w, 11), 0x895cd7be, 22);
            a = F(a, b, c, d, W(ref w, 12), 0x6b901122, 7);
            d = F(d, a, b, c, W(ref w, 13), 0xfd987193, 12);
            c = F(c, d, a, b, W(ref w, 14), 0xa679438e, 17);
            b = F(b, c, d, a, W(ref w, 15), 0x49b40821, 22);

            // Round 2: G = (b & d) | (c & ~d).
            a = G(a, b, c, d, W(ref w, 1), 0xf61e2562, 5);
            d = G(d, a, b, c, W(ref w, 6), 0xc040b340, 9);
            c = G(c, d, a, b, W(ref w, 11), 0x265e5a51, 14);
            b = G(b, c, d, a, W(ref w, 0), 0xe9b6c7aa, 20);
            a = G(a, b, c, d, W(ref w, 5), 0xd62f105d, 5);
            d = G(d, a, b, c, W(ref w, 10), 0x02441453, 9);
            c = G(c, d, a, b, W(ref w, 15), 0xd8a1e681, 14);
            b = G(b, c, d, a, W(ref w, 4), 0xe7d3fbc8, 20);
            a = G(a, b, c, d, W(ref w, 9), 0x21e1cde6, 5);
            d = G(d, a, b, c, W(ref w, 14), 0xc33707d6, 9);
            c = G(c, d, a, b, W(ref w, 3), 0xf4d50d87, 14);
            b = G(b, c, d, a, W(ref w, 8), 0x455a14ed, 20);
            a = G(a, b, c, d, W(ref w, 13), 0xa9e3e905, 5);
            d = G(d, a, b, c, W(ref w, 2), 0xfcefa3f8, 9);
            c = G(c, d, a, b, W(ref w, 7), 0x676f02d9, 14);
            b = G(b, c, d, a, W(ref w, 12), 0x8d2a4c8a, 20);

            // Round 3: H = b ^ c ^ d.
            a = H(a, b, c, d, W(ref w, 5), 0xfffa3942, 4);
            d = H(d, a, b, c, W(ref w, 8), 0x8771f681, 11);
            c = H(c, d, a, b, W(ref w, 11), 0x6d9d6122, 16);
            b = H(b, c, d, a, W(ref w, 14), 0xfde5380c, 23);
            a = H(a, b, c, d, W(ref w, 1), 0xa4beea44, 4);
            d = H(d, a, b, c, W(ref w, 4), 0x4bdecfa9, 11);
            c = H(c, d, a, b, W(ref w, 7), 0xf6bb4b60, 16);
            b = H(b, c, d, a, W(ref w, 10), 0xbebfbc70, 23);
            a = H(a, b, c, d, W(ref w, 13), 0x289b7ec6, 4);
            d = H(d, a, b, c, W(ref w, 0), 0xeaa127fa, 11);
            c = H(c, d, a, b, W(ref w, 3), 0xd4ef3085, 16);
            b = H(b, c, d, a, W(ref w, 6), 0x04881d05, 23);
            a = H(a, b, c, d, W(ref w, 9), 0xd9d4d039, 4);
            d = H(d, a, b, c, W(ref w, 12), 0xe6db99e5, 11);
            c = H(c, d, a, b, W(ref w, 15), 0x1fa27cf8, 16);
            b = H(b, c, d, a, W(ref w, 2), 0xc4ac5665, 23);

            // Round 4: I = c ^ (b | ~d).
            a = I(a, b, c, d, W(ref w, 0), 0xf4292244, 6);
            d = I(d, a, b, c, W(ref w, 7), 0x432aff97, 10);
            c = I(c, d, a, b, W(ref w, 14), 0xab9423a7, 15);
            b = I(b, c, d, a, W(ref w, 5), 0xfc93a039, 21);
            a = I(a, b, c, d, W(ref w, 12), 0x655b59c3, 6);
            d = I(d, a, b, c, W(ref w, 3), 0x8f0ccc92, 10);
            c = I(c, d, a, b, W(ref w, 10), 0xffeff47d, 15);
            b = I(b, c, d, a, W(ref w, 1), 0x85845dd1, 21);
            a = I(a, b, c, d, W(ref w, 8), 0x6fa87e4f, 6);
            d = I(d, a, b, c, W(ref w, 15), 0xfe2ce6e0, 10);
            c = I(c, d, a, b, W(ref w, 6), 0xa3014314, 15);
            b = I(b, c, d, a, W(ref w, 13), 0x4e0811a1, 21);
            a = I(a, b, c, d, W(ref w, 4), 0xf7537e82, 6);
            d = I(d, a, b, c, W(ref w, 11), 0xbd3af235, 10);
            c = I(c, d, a, b, W(ref w, 2), 0x2ad7d2bb, 15);
            b = I(b, c, d, a, W(ref w, 9), 0xeb86d391, 21);

            a += a0;
            b += b0;
            c += c0;
            d += d0;
            p1 = ref Unsafe.Add(ref p1, Md5State.BlockSize);
            p2 = ref Unsafe.Add(ref p2, Md5State.BlockSize);
        }

        first.A = a.GetElement(0);
        first.B = b.GetElement(0);
        first.C = c.GetElement(0);
        first.D = d.GetElement(0);
        second.A = a.GetElement(1);
        second.B = b.GetElement(1);
        second.C = c.GetElement(1);
        second.D = d.GetElement(1);
    }

    /// <summary>Interleaves the four words at byte <paramref name="offset"/> of both blocks into <paramref name="words"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(ref byte first, ref byte second, ref byte words, int offset)
    {
        var x = Vector128.LoadUnsafe(ref Unsafe.Add(ref first, offset)).AsUInt32();
        var y = Vector128.LoadUnsafe(ref Unsafe.Add(ref second, offset)).AsUInt32();
        Sse2.UnpackLow(x, y).AsByte().StoreUnsafe(ref Unsafe.Add(ref words, offset * 2));
        Sse2.UnpackHigh(x, y).AsByte().StoreUnsafe(ref Unsafe.Add(ref words, (offset * 2) + 16));
    }

    /// <summary>Word <paramref name="index"/> of both blocks in lanes 0 and 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> W(ref byte words, int index) =>
        Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref words, index * sizeof(ulong)))).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> F(Vector128<uint> a, Vector128<uint> b, Vector128<uint> c, Vector128<uint> d, Vector128<uint> x, uint k, [ConstantExpected] byte s) =>
        b + Avx512F.VL.RotateLeft(a + x + Vector128.Create(k) + Avx512F.VL.TernaryLogic(b, c, d, 0xCA), s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> G(Vector128<uint> a, Vector128<uint> b, Vector128<uint> c, Vector128<uint> d, Vector128<uint> x, uint k, [ConstantExpected] byte s) =>
        b + Avx512F.VL.RotateLeft(a + x + Vector128.Create(k) + Avx512F.VL.TernaryLogic(b, c, d, 0xE4), s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> H(Vector128<uint> a, Vector128<uint> b, Vector128<uint> c, Vector128<uint> d, Vector128<uint> x, uint k, [ConstantExpected] byte s) =>
        b + Avx512F.VL.RotateLeft(a + x + Vector128.Create(k) + Avx512F.VL.TernaryLogic(b, c, d, 0x96), s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> I(Vector128<uint> a, Vector128<uint> b, Vector128<uint> c, Vector128<uint> d, Vector128<uint> x, uint k, [ConstantExpected] byte s) =>
        b + Avx512F.VL.RotateLeft(a + x + Vector128.Create(k) + Avx512F.VL.TernaryLogic(b, c, d, 0x39), s);
}
