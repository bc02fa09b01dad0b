using System.CommandLine;
using System.Net;
using Haul.Node;
using Haul.Transfer;
using Microsoft.Extensions.Logging;

namespace Haul.Cli.Commands;

/// <summary>
/// Zero-setup demo: two nodes with their own homes on this machine, paired through invite/join, a
/// sample dataset sent over real TLS and UDP sockets, then both trees compared byte for byte.
/// </summary>
internal static class QuickstartCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size-mb") { Description = "Approximate size of the sample dataset in MB", DefaultValueFactory = _ => 600 };
        var keep = new Option<bool>("--keep") { Description = "Keep the two node homes and the dataset afterwards" };
        var cmd = new Command("quickstart", "Run two local nodes and send a sample dataset between them") { size, keep };
        cmd.SetAction((pr, ct) => Cli.Guard(() => RunAsync(pr.GetValue(size), pr.GetValue(keep), ct)));
        return cmd;
    }

    private static async Task<int> RunAsync(int sizeMb, bool keep, CancellationToken ct)
    {
        if (sizeMb is < 1 or > 100_000)
        {
            throw new HaulException(ErrorCode.Usage, $"--size-mb {sizeMb} is out of range", "use 1 to 100000");
        }

        string dir = Path.Combine(Path.GetTempPath(), $"haul-quickstart-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            using var loggers = Logging.Create(LogLevel.Warning);
            using var a = HaulNode.Init(Path.Combine(dir, "lab-a"), "lab-a", loggers);
            HaulNode.Init(Path.Combine(dir, "lab-b"), "lab-b", loggers).Dispose();

            // lab-b runs as 'haul serve' runs it (a NodeHost); it has no jobs to run here.
            var host = NodeHost.Start(Path.Combine(dir, "lab-b"), new ServeOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0) }, loggers);
            await using (host.ConfigureAwait(false))
            {
                var b = host.Node;
                var server = host.Server;
                Console.Out.WriteLine($"node lab-a  {a.Identity.Id}");
                Console.Out.WriteLine($"node lab-b  {b.Identity.Id}  serving on {server.LocalEndPoint} (TLS 1.3 over TCP, AES-256-GCM over UDP)");

                var token = b.Invite(server.LocalEndPoint.ToString(), TimeSpan.FromMinutes(5));
                var peer = await a.JoinAsync(token.Encode(), cancellationToken: ct).ConfigureAwait(false);
                Console.Out.WriteLine($"paired: lab-a trusts {peer.Name}, lab-b trusts {b.Store.FindPeer(a.Identity.Id)!.Name} (one-time invite token)");

                string dataset = Path.Combine(dir, "dataset");
                long bytes = SampleData.Create(dataset, sizeMb * 1_000_000L);
                Console.Out.WriteLine($"sample dataset: {dataset} ({Units.Bytes(bytes)}: model weights, images, labels, an empty file and folder, unicode names)");

                var renderer = new ProgressRenderer(json: false);
                var result = await a.SendAsync(dataset, "lab-b", new SendOptions(), renderer.Report, ct).ConfigureAwait(false);
                SendCommand.PrintResult(result, a, json: false);

                string landed = Path.Combine(server.Inbox, "lab-a", "dataset");
                var (files, same) = TreeCompare.Compare(dataset, landed);
                Console.Out.WriteLine($"verified: {files} files byte-for-byte identical at {landed}");

                // Change one file and send again: only its changed chunks cross the wire.
                SampleData.Touch(Path.Combine(dataset, "model", "weights.bin"));
                var again = await a.SendAsync(dataset, "lab-b", new SendOptions(), null, ct).ConfigureAwait(false);
                Console.Out.WriteLine($"re-sent after changing 1 MB inside the weights: {Units.Bytes(again.ChunkBytesSent)} moved of {Units.Bytes(again.Bytes)}, in {again.Elapsed.TotalSeconds:0.00} s");
                TreeCompare.Compare(dataset, landed);
                Console.Out.WriteLine("verified again: identical");
                _ = same;
            }

            return 0;
        }
        finally
        {
            if (keep)
            {
                Console.Out.WriteLine($"kept {dir}");
            }
            else
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
