using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Haul.Cli.Commands;
using Haul.Jobs;
using Haul.Node;
using Haul.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Haul.Cli.Api;

/// <summary>
/// The node's REST API (ASP.NET Core minimal APIs on Kestrel), inside 'haul serve'. Every call under
/// /api, /metrics and /openapi.json needs the node's bearer token; a request from a browser origin other
/// than the node's own is refused (CSRF, DNS rebinding); errors are RFC 9457 problem details carrying the
/// CLI's error codes. Only the dashboard's page and script are served without the token.
/// </summary>
internal sealed class ApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ApiServer(WebApplication app) => _app = app;

    public string Address => _app.Urls.First();

    public static async Task<ApiServer> StartAsync(ApiContext ctx, IPEndPoint endpoint)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "haul", Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(endpoint);
            k.Limits.MaxRequestBodySize = 1 << 20;
            k.AddServerHeader = false;
        });
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJson.Default);
        });
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info = new() { Title = "Haul node API", Version = "v1", Description = "Control a Haul node: peers, transfers, folders, sync jobs, receipts. Authenticate with 'Authorization: Bearer TOKEN' ('haul token show')." };
            return Task.CompletedTask;
        }));

        Metrics.Start();
        var app = builder.Build();
        app.Use((http, next) => GuardAsync(http, next, ctx));
        app.MapOpenApi("/openapi.json");
        Endpoints.Map(app, ctx);
        Dashboard.Map(app);
        await app.StartAsync().ConfigureAwait(false);
        return new ApiServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Origin and Host checks, the bearer token, and errors as problem details.</summary>
    private static async Task GuardAsync(HttpContext http, RequestDelegate next, ApiContext ctx)
    {
        var req = http.Request;
        if (!HostAllowed(req.Host, ctx))
        {
            await Problems.WriteAsync(http, StatusCodes.Status421MisdirectedRequest, "host-refused", $"Host '{req.Host}' is not this node's API address", "call the API by the address it listens on (haul status shows it)", null).ConfigureAwait(false);
            return;
        }

        string? origin = req.Headers.Origin;
        if (!string.IsNullOrEmpty(origin) && !string.Equals(origin, $"{req.Scheme}://{req.Host}", StringComparison.OrdinalIgnoreCase))
        {
            await Problems.WriteAsync(http, StatusCodes.Status403Forbidden, "cross-origin", $"requests from origin {origin} are refused", "use the dashboard the node serves, or call the API from a script (no Origin header)", null).ConfigureAwait(false);
            return;
        }

        bool open = HttpMethods.IsGet(req.Method) && Dashboard.OpenPaths.Contains(req.Path.Value);
        string? auth = req.Headers.Authorization;
        string? presented = auth is not null && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null;
        if (!open && !ApiToken.Matches(ctx.Token(), presented))
        {
            http.Response.Headers.WWWAuthenticate = presented is null ? "Bearer realm=\"haul\"" : "Bearer realm=\"haul\", error=\"invalid_token\"";
            await Problems.WriteAsync(
                http,
                StatusCodes.Status401Unauthorized,
                presented is null ? "token-missing" : "token-wrong",
                presented is null ? "this request has no bearer token" : "the bearer token is wrong",
                "send 'Authorization: Bearer TOKEN'; 'haul token show' prints the token",
                ErrorCode.BadToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(http).ConfigureAwait(false);
        }
        catch (HaulException ex) when (!http.Response.HasStarted)
        {
            await Problems.WriteAsync(http, Problems.StatusFor(ex.Code), Problems.Slug(ex.Code), ex.Message, ex.Hint, ex.Code).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            await Problems.WriteAsync(http, ex.StatusCode, "bad-request", ex.Message, "check the request against /openapi.json", ErrorCode.Usage).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
    }

    /// <summary>The Host header must name this listener (loopback names, or the bound address): a DNS-rebinding page cannot reach the API by a name of its own.</summary>
    private static bool HostAllowed(HostString host, ApiContext ctx)
    {
        if (!host.HasValue)
        {
            return false;
        }

        if (host.Port is { } p && p != ctx.Endpoint.Port)
        {
            return false;
        }

        string h = host.Host.Trim('[', ']');
        if (h.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(h, out var ip) && (IPAddress.IsLoopback(ip) || ip.Equals(ctx.Endpoint.Address) || ctx.Endpoint.Address.Equals(IPAddress.Any) || ctx.Endpoint.Address.Equals(IPAddress.IPv6Any));
    }

    public static string Version => typeof(ApiServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
