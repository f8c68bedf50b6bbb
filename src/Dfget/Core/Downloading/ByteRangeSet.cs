namespace Dragonfly.Dfget.Downloading;

/// <summary>
/// The bytes of a file written so far, as a union of ranges: a range written again (a piece fetched once more after a
/// migration to a supernode that cuts the file in pieces of another size) adds only what it newly covers, so the covered
/// count never passes the file's length. Thread-safe; kept as sorted, disjoint, non-touching ranges.
/// </summary>
internal sealed class ByteRangeSet
{
    private readonly List<(long Start, long End)> _ranges = [];
    private readonly Lock _gate = new();
    private long _covered;

    /// <summary>How many distinct bytes the added ranges cover.</summary>
    public long Covered
    {
        get
        {
            lock (_gate)
            {
                return _covered;
            }
        }
    }

    /// <summary>Adds <c>[offset, offset + length)</c>; returns how many of its bytes were not covered before, and the new total.</summary>
    public (long Added, long Covered) Add(long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        lock (_gate)
        {
            if (length == 0)
            {
                return (0, _covered);
            }

            var start = offset;
            var end = offset + length;
            var first = FirstEndingAtOrAfter(start);
            var last = first;
            var merged = 0L;
            for (; last < _ranges.Count && _ranges[last].Start <= end; last++)
            {
                start = Math.Min(start, _ranges[last].Start);
                end = Math.Max(end, _ranges[last].End);
                merged += _ranges[last].End - _ranges[last].Start;
            }

            _ranges.RemoveRange(first, last - first);
            _ranges.Insert(first, (start, end));
            var added = end - start - merged;
            _covered += added;
            return (added, _covered);
        }
    }

    /// <summary>The index of the first range whose end is at or after <paramref name="position"/> (touching ranges merge).</summary>
    private int FirstEndingAtOrAfter(long position)
    {
        int low = 0, high = _ranges.Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (_ranges[mid].End < position)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }
}
