using System.Text;
using System.Text.Json;

namespace Haul.Cli;

/// <summary>One JSON object per line, for --json output.</summary>
internal static class Json
{
    public static string Line(params (string Key, object? Value)[] fields)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            foreach (var (k, v) in fields)
            {
                switch (v)
                {
                    case null:
                        w.WriteNull(k);
                        break;
                    case string s:
                        w.WriteString(k, s);
                        break;
                    case bool b:
                        w.WriteBoolean(k, b);
                        break;
                    case int i:
                        w.WriteNumber(k, i);
                        break;
                    case long l:
                        w.WriteNumber(k, l);
                        break;
                    case double d:
                        w.WriteNumber(k, Math.Round(d, 3));
                        break;
                    default:
                        w.WriteString(k, v.ToString());
                        break;
                }
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
