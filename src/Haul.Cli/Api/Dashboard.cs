using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Haul.Cli.Api;

/// <summary>
/// The web dashboard: one page and one script, embedded in the binary, served without the token (they
/// hold no data; every call they make carries the token the user enters, kept in sessionStorage).
/// A strict Content-Security-Policy allows scripts and connections only from the node itself.
/// </summary>
internal static class Dashboard
{
    public static readonly string[] OpenPaths = ["/", "/app.js"];

    private const string Csp = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static void Map(WebApplication app)
    {
        var html = Load("index.html");
        var js = Load("app.js");
        app.MapGet("/", (HttpContext http) => Serve(http, html, "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/app.js", (HttpContext http) => Serve(http, js, "text/javascript; charset=utf-8")).ExcludeFromDescription();
    }

    private static Task Serve(HttpContext http, byte[] body, string type)
    {
        http.Response.ContentType = type;
        http.Response.Headers.ContentSecurityPolicy = Csp;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        http.Response.Headers.CacheControl = "no-cache";
        return http.Response.Body.WriteAsync(body, http.RequestAborted).AsTask();
    }

    private static byte[] Load(string name)
    {
        using var s = typeof(Dashboard).Assembly.GetManifestResourceStream("Haul.Cli.Api.Dashboard." + name)
            ?? throw new InvalidOperationException($"dashboard resource {name} is missing from the build");
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}
