using Haul.Protocol;

namespace Haul.Transfer;

/// <summary>The receiver's need list (from its ACCEPT): the chunks it lacks, in order, and what it already holds.</summary>
/// <param name="Chunks">Chunk indexes, expanded from the ACCEPT's ranges (ordered and bounded by <see cref="Messages.Accept.Decode"/>).</param>
internal sealed record NeedList(int[] Chunks, long ReusedBytes, int FilesAlreadyDone)
{
    public static NeedList From(Messages.Accept accept)
    {
        int n = 0;
        foreach (var (_, c) in accept.Need)
        {
            n += c;
        }

        var chunks = new int[n];
        int i = 0;
        foreach (var (s, c) in accept.Need)
        {
            for (int k = 0; k < c; k++)
            {
                chunks[i++] = s + k;
            }
        }

        return new NeedList(chunks, accept.ReusedBytes, accept.FilesAlreadyDone);
    }
}
