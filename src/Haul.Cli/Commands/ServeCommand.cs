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
        var advertise = new Option<string?>("--udp-advertise") { Description = "Host senders should send UDP to, if not the control address" };
        var api = new Option<string?>("--api") { Description = "ADDRESS:PORT for the REST API and dashboard (default 127.0.0.1 and the --listen port + 1), or 'off'" };
        var apiRemote = new Option<bool>("--api-allow-remote") { Description = "Allow --api on a non-loopback address (prints a warning: the token is then the only guard)" };
        var cmd = new Command("serve", "Run the headless node until interrupted") { listen, inbox, noUdp, advertise, api, apiRemote };
        cmd.SetAction((pr, ct) => Cli.Guard(async () =>
        {
            if (!IPEndPoint.TryParse(pr.GetValue(listen)!, out var ep) || ep.Port == 0 && !pr.GetValue(listen)!.EndsWith(":0", StringComparison.Ordinal))
            {
                throw new HaulException(ErrorCode.Usage, $"--listen '{pr.GetValue(listen)}' is not ADDRESS:PORT", "use e.g. 0.0.0.0:7400 or 127.0.0.1:7400");
            }

            var apiEndpoint = Api.ApiHost.ParseEndpoint(pr.GetValue(api), ep, pr.GetValue(apiRemote));
            using var loggers = Logging.Create(LogLevel.Information);
            using var node = HaulNode.Open(HaulHome.Resolve(pr.GetValue(Cli.Home)), loggers);
            var server = node.CreateServer(new ServeOptions { Listen = ep, Inbox = pr.GetValue(inbox), NoUdp = pr.GetValue(noUdp), UdpAdvertiseHost = pr.GetValue(advertise) });
            string home = HaulHome.Resolve(pr.GetValue(Cli.Home));
            using var jobs = new Haul.Jobs.JobStore(HaulHome.DatabasePath(home));
            var scheduler = new Haul.Jobs.JobScheduler(jobs, (j, _, c) => JobCommands.RunProcessAsync(home, j, c), TimeProvider.System, loggers.CreateLogger("haul.jobs"));
            await using (server.ConfigureAwait(false))
            await using (scheduler.ConfigureAwait(false))
            {
                server.Start();
                scheduler.Start();
                Api.ApiServer? apiServer = null;
                TransferManager? transfers = null;
                if (apiEndpoint is not null)
                {
                    (apiServer, transfers) = await Api.ApiHost.StartAsync(home, node, jobs, scheduler, apiEndpoint, pr.GetValue(api) is not null, server.LocalEndPoint, loggers).ConfigureAwait(false);
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

                if (transfers is not null)
                {
                    await transfers.DisposeAsync().ConfigureAwait(false);
                }
            }

            return 0;
        }));
        return cmd;
    }
}
