using Microsoft.AspNetCore.Http;

namespace Haul.Cli.Api;

/// <summary>RFC 9457 problem details with the CLI's error code: type, title, status, detail, code, error, fix.</summary>
internal static class Problems
{
    public static Task WriteAsync(HttpContext http, int status, string slug, string detail, string? fix, ErrorCode? code)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/problem+json";
        var body = new ProblemView("urn:haul:problem:" + slug, ReasonPhrases(status), status, detail, code is null ? null : (int)code, code is null ? null : Slug(code.Value), fix, http.Request.Path.Value);
        return http.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(body, ApiJson.Default.ProblemView), http.RequestAborted);
    }

    public static int StatusFor(ErrorCode code) => code switch
    {
        ErrorCode.Usage => StatusCodes.Status400BadRequest,
        ErrorCode.UnknownPeer or ErrorCode.PathNotFound or ErrorCode.UnknownFolder => StatusCodes.Status404NotFound,
        ErrorCode.PermissionDenied or ErrorCode.UnsafePath => StatusCodes.Status403Forbidden,
        ErrorCode.BadToken => StatusCodes.Status401Unauthorized,
        ErrorCode.AlreadyInitialized or ErrorCode.TransferBusy or ErrorCode.NodeAlreadyRunning => StatusCodes.Status409Conflict,
        ErrorCode.PeerUnreachable or ErrorCode.PeerWentAway or ErrorCode.NotTrusted or ErrorCode.ObjectStore => StatusCodes.Status502BadGateway,
        ErrorCode.DiskFull => StatusCodes.Status507InsufficientStorage,
        ErrorCode.NodeNotRunning => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>unknown-peer for UnknownPeer: the error name as the problem type's last part.</summary>
    public static string Slug(ErrorCode code) =>
        string.Concat(code.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
