using System.Text.Json;

namespace Haul.Tests.Api;

/// <summary>
/// Reads a node's /api/v1/events stream (server-sent events) in the background, recording each
/// transfer snapshot with the time it arrived, until a snapshot of a finished transfer (done or failed)
/// arrives, the time limit passes, or it is disposed.
/// </summary>
internal sealed class EventRecorder : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _cts;
    private readonly List<(TimeSpan At, JsonElement E)> _seen = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private EventRecorder(HttpClient client, HttpResponseMessage response, TimeSpan limit)
    {
        (_client, _response) = (client, response);
        _cts = new CancellationTokenSource(limit);
        Reading = Task.Run(ReadAsync);
    }

    /// <summary>Ends when a finished transfer's snapshot has been read (or the stream ends).</summary>
    public Task Reading { get; }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Subscribes (the stream is open when this returns, so nothing started after it is missed).</summary>
    public static async Task<EventRecorder> StartAsync(HttpClient api, TimeSpan limit)
    {
        var client = new HttpClient { BaseAddress = api.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = api.DefaultRequestHeaders.Authorization;
        var response = await client.GetAsync("/api/v1/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new EventRecorder(client, response, limit);
    }

    /// <summary>The snapshots of one transfer (or of all, with null), in arrival order.</summary>
    public List<(TimeSpan At, JsonElement E)> Of(string? id)
    {
        lock (_seen)
        {
            return [.. _seen.Where(x => id is null || x.E.GetProperty("id").GetString() == id)];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await Reading;
        }
        catch (OperationCanceledException)
        {
        }

        _response.Dispose();
        _client.Dispose();
        _cts.Dispose();
    }

    private async Task ReadAsync()
    {
        using var sr = new StreamReader(await _response.Content.ReadAsStreamAsync(_cts.Token));
        while (await sr.ReadLineAsync(_cts.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var e = JsonDocument.Parse(line[6..]).RootElement.Clone();
                lock (_seen)
                {
                    _seen.Add((_clock.Elapsed, e));
                }

                if (e.GetProperty("state").GetString() is "done" or "failed")
                {
                    return;
                }
            }
        }
    }
}
