using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Haul.Node;
using Microsoft.Extensions.Logging;

namespace Haul.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "ADDRESS:PORT for the TLS control channel (TCP) and the data channel (UDP)", DefaultValueFactory = _ => "0.0.0.0:7400" };
        var inbox = new Option<string?>("--inbox") { Description = "Where peers' sends land, as INBOX/<peer>/ (default: HAUL_HOME/inbox)" };
        var noUdp = new Option<bool>("--no-udp") { Description = "Do not open the UDP data socket; data then flows over TLS" };
        var advertise = new Option<string?>("--udp-advertise") { Description = "Host senders should send UDP to, if not the control address (a sender follows it only if it stores that host as this node's address or lists it in HAUL_UDP_HOSTS)" };
        var api = new Option<string?>("--api") { Description = "ADDRESS:PORT for the REST API and dashboard (default 127.0.0.1 and the --listen port + 1), or 'off'" };
        var apiRemote = new Option<bool>("--api-allow-remote") { Description = "Allow --api on a non-loopback address (prints a warning: the token is then the only guard)" };
        var config = new Option<string?>("--config") { Description = "Config file of 'key = value' lines (listen, api, api-allow-remote, inbox, no-udp, udp-advertise); default HAUL_HOME/haul.conf if present; flags win" };
        var cmd = new Command("serve", "Run the headless node until interrupted") { listen, inbox, noUdp, advertise, api, apiRemote, config };
        cmd.SetAction((pr, ct) => Cli.Guard(async () =>
        {
            string homeDir = Cli.HomeOf(pr);
            string? configPath = pr.GetValue(config) ?? (File.Exists(Path.Combine(homeDir, "haul.conf")) ? Path.Combine(homeDir, "haul.conf") : null);
            var conf = configPath is null ? ServeConfig.Empty : ServeConfig.Load(configPath);
            string? Str(Option<string?> o, string key) => Given(pr, o) ? pr.GetValue(o) : conf.Get(key) ?? pr.GetValue(o);
            bool Bool(Option<bool> o, string key) => pr.GetValue(o) || conf.Flag(key);
            string listenText = Given(pr, listen) ? pr.GetValue(listen)! : conf.Get("listen") ?? pr.GetValue(listen)!;
            if (!IPEndPoint.TryParse(listenText, out var ep) || ep.Port == 0 && !listenText.EndsWith(":0", StringComparison.Ordinal))
            {
                throw new HaulException(ErrorCode.Usage, $"--listen '{listenText}' is not ADDRESS:PORT", "use e.g. 0.0.0.0:7400 or 127.0.0.1:7400");
            }

            string? apiText = Str(api, "api");
            var apiEndpoint = Api.ApiHost.ParseEndpoint(apiText, ep, Bool(apiRemote, "api-allow-remote"));
            using var loggers = Logging.Create(LogLevel.Information);
            string home = homeDir;
            var serveOptions = new ServeOptions { Listen = ep, Inbox = Str(inbox, "inbox"), NoUdp = Bool(noUdp, "no-udp"), UdpAdvertiseHost = Str(advertise, "udp-advertise") };
            var host = NodeHost.Start(home, serveOptions, loggers, CommandSpecs.FromArgv);
            await using (host.ConfigureAwait(false))
            {
                Api.ApiServer? apiServer = null;
                if (apiEndpoint is not null)
                {
                    apiServer = await Api.ApiHost.StartAsync(host, apiEndpoint, apiText is not null, loggers).ConfigureAwait(false);
                }

                // Sources of cancellation: Ctrl+C (the parser's token) and SIGTERM (systemd, kill).
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
                {
                    c.Cancel = true;
                    stop.Cancel();
                });
                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                if (apiServer is not null)
                {
                    await apiServer.DisposeAsync().ConfigureAwait(false);
                }
            }

            return 0;
        }));
        return cmd;
    }

    private static bool Given<T>(ParseResult pr, Option<T> o) => pr.GetResult(o) is { Implicit: false };
}
