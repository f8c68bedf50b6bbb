using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Dragonfly.Common.Pieces;

namespace Dragonfly.Benchmarks;

/// <summary>Wrapping a full 4 MiB piece, and wrapping plus the md5 every piece carries.</summary>
[MemoryDiagnoser]
public class PieceFrameBenchmarks
{
    private readonly byte[] _content = new byte[PieceLayout.ContentPerPiece(PieceLayout.DefaultPieceSize)];
    private readonly byte[] _wrapped = new byte[PieceLayout.DefaultPieceSize];

    [GlobalSetup]
    public void Setup() => new Random(1).NextBytes(_content);

    [Benchmark]
    public int Wrap() => PieceFrame.Wrap(_content, PieceLayout.DefaultPieceSize, _wrapped);

    [Benchmark]
    public byte[] WrapAndMd5()
    {
        var n = PieceFrame.Wrap(_content, PieceLayout.DefaultPieceSize, _wrapped);
        return MD5.HashData(_wrapped.AsSpan(0, n));
    }
}
