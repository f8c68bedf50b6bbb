namespace Dragonfly.Supernode.Managers;

/// <summary>The API's paging (<c>pageNum</c>, <c>pageSize</c>): zero-based pages, size 0 meaning all of them.</summary>
public static class Paging
{
    /// <summary>Page <paramref name="pageNum"/> of <paramref name="items"/> (in their order); a page past the end is empty.</summary>
    public static IReadOnlyList<T> Page<T>(IReadOnlyList<T> items, int pageNum, int pageSize)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (pageSize == 0)
        {
            return items;
        }

        var skip = (long)pageNum * pageSize;
        return skip >= items.Count ? [] : items.Skip((int)skip).Take(pageSize).ToArray();
    }
}
