namespace Haul.Sync;

/// <summary>A read-only stream that takes tokens from a <see cref="Throttle"/> for every read.</summary>
internal sealed class ThrottledStream(Stream inner, Throttle throttle) : ReadThroughStream(inner)
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Small reads keep the pacing smooth at low rates.
        int n = await Inner.ReadAsync(buffer[..Math.Min(buffer.Length, 256 * 1024)], cancellationToken).ConfigureAwait(false);
        if (n > 0)
        {
            await throttle.TakeAsync(n, cancellationToken).ConfigureAwait(false);
        }

        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
}
