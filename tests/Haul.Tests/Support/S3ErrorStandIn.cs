using System.Net;
using System.Text;

namespace Haul.Tests.Support;

/// <summary>
/// A stand-in for the far side in unit tests of the near side's error mapping: an HTTP listener on a free
/// loopback port that answers every request as S3 does with one error (status, code, message). The real
/// servers (s3rver, moto with signatures) prove the features; this only pins what a given answer becomes.
/// </summary>
internal sealed class S3ErrorStandIn : IDisposable
{
    private readonly HttpListener _http = new();

    public S3ErrorStandIn(int status, string code, string message)
    {
        Port = HaulProcess.FreePort();
        _http.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _http.Start();
        byte[] body = Encoding.UTF8.GetBytes($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>");
        _ = Task.Run(async () =>
        {
            while (_http.IsListening)
            {
                HttpListenerContext c;
                try
                {
                    c = await _http.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                c.Response.StatusCode = status;
                c.Response.ContentType = "application/xml";
                await c.Response.OutputStream.WriteAsync(body);
                c.Response.Close();
            }
        });
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public void Dispose() => ((IDisposable)_http).Dispose();
}
