using System.Buffers;

namespace Dragonfly.TestCommon;

/// <summary><see cref="ReadOnlySequence{T}"/>s of several segments, as a pipe hands them out.</summary>
public static class Sequences
{
    /// <summary>A sequence of one segment per part (a single part: one plain segment).</summary>
    public static ReadOnlySequence<byte> Of(params ReadOnlyMemory<byte>[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (parts.Length == 1)
        {
            return new ReadOnlySequence<byte>(parts[0]);
        }

        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1))
        {
            last = last.Append(part);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary><paramref name="bytes"/> cut at up to <paramref name="maxCuts"/> random places (empty segments included).</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, Random random, int maxCuts = 8)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(random);
        var cuts = Enumerable.Range(0, random.Next(maxCuts + 1)).Select(_ => random.Next(bytes.Length + 1)).Order().ToArray();
        var parts = new List<ReadOnlyMemory<byte>>();
        var from = 0;
        foreach (var cut in cuts)
        {
            parts.Add(bytes.AsMemory(from, cut - from));
            from = cut;
        }

        parts.Add(bytes.AsMemory(from));
        return Of([.. parts]);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
