using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Haul.Cli.Api;

/// <summary>
/// Prometheus text exposition of the "Haul" meter: a MeterListener sums counters per tag set and
/// reads gauges on each scrape (haul.bytes.sent → haul_bytes_sent_bytes_total, and so on), plus the
/// node's live transfer count.
/// </summary>
internal static class Metrics
{
    private static readonly ConcurrentDictionary<(string Name, string Tags), double> Sums = new();
    private static readonly ConcurrentDictionary<(string Name, string Tags), double> Gauges = new();
    private static readonly ConcurrentDictionary<string, (string Kind, string? Unit, string? Help)> Info = new();
    private static readonly MeterListener Listener = Create();

    private static MeterListener Create()
    {
        var l = new MeterListener
        {
            InstrumentPublished = (inst, listener) =>
            {
                if (inst.Meter.Name == HaulMetrics.Meter.Name)
                {
                    Info[inst.Name] = (inst is ObservableGauge<double> ? "gauge" : "counter", inst.Unit, inst.Description);
                    listener.EnableMeasurementEvents(inst);
                }
            },
        };
        l.SetMeasurementEventCallback<long>((inst, value, tags, _) => Record(inst, value, tags));
        l.SetMeasurementEventCallback<double>((inst, value, tags, _) => Record(inst, value, tags));
        l.Start();
        return l;
    }

    private static void Record(Instrument inst, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sb = new StringBuilder();
        foreach (var t in tags)
        {
            sb.Append(sb.Length == 0 ? string.Empty : ",").Append(t.Key).Append("=\"").Append(Convert.ToString(t.Value, CultureInfo.InvariantCulture)?.Replace("\"", "'", StringComparison.Ordinal)).Append('"');
        }

        var key = (inst.Name, sb.ToString());
        if (inst is ObservableGauge<double>)
        {
            Gauges[key] = value;
        }
        else
        {
            Sums.AddOrUpdate(key, value, (_, v) => v + value);
        }
    }

    /// <summary>Starts listening; measurements made before this are not counted.</summary>
    public static void Start() => GC.KeepAlive(Listener);

    public static string Render(ApiContext ctx)
    {
        Listener.RecordObservableInstruments();
        var sb = new StringBuilder();
        foreach (var (name, (kind, unit, help)) in Info.OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            string prom = PromName(name, unit, kind);
            sb.Append("# HELP ").Append(prom).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(prom).Append(' ').Append(kind).Append('\n');
            var series = (kind == "gauge" ? Gauges : Sums).Where(s => s.Key.Name == name).ToList();
            if (series.Count == 0)
            {
                sb.Append(prom).Append(" 0\n");
            }

            foreach (var s in series.OrderBy(s => s.Key.Tags, StringComparer.Ordinal))
            {
                sb.Append(prom).Append(s.Key.Tags.Length > 0 ? "{" + s.Key.Tags + "}" : string.Empty).Append(' ').Append(s.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        sb.Append("# HELP haul_transfers_active Transfers the node is running for clients\n# TYPE haul_transfers_active gauge\n");
        sb.Append("haul_transfers_active ").Append(ctx.Transfers.Active.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("# HELP haul_peers Trusted peers\n# TYPE haul_peers gauge\n");
        sb.Append("haul_peers ").Append(ctx.Node.Store.ListPeers().Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    /// <summary>OpenMetrics naming: dots to underscores, the unit as a suffix, _total on counters.</summary>
    private static string PromName(string name, string? unit, string kind)
    {
        string n = name.Replace('.', '_');
        string suffix = unit switch
        {
            "By" => "_bytes",
            "By/s" => "_bytes_per_second",
            "s" => "_seconds",
            "1" => "_ratio",
            _ => string.Empty,
        };
        if (!n.EndsWith(suffix, StringComparison.Ordinal))
        {
            n += suffix;
        }

        return kind == "counter" ? n + "_total" : n;
    }
}
