using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Haul.Content;
using Haul.Node;
using Haul.Protocol;
using Haul.Sync;
using Haul.Tests.Support;
using Haul.Transfer;
using Microsoft.Extensions.Logging.Abstractions;
using static Haul.Tests.Support.SyncCli;

namespace Haul.Tests.Node;

/// <summary>
/// A hostile folder owner (the attacker pass of issue 18). The victim pulls (copy hostile:data DIR) with filters; the owner lists
/// one harmless file and, when asked to PULL it, sends a manifest naming other files too.
/// </summary>
[Collection("nodes")]
public sealed class HostileOwnerTests
{
    internal sealed class HostileOwner : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly TestNode _me;
        private readonly Func<List<string>, (string Root, List<string> Paths)> _answer;
        private readonly List<SyncEntry> _listing;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        public readonly List<string> Seen = [];

        public HostileOwner(TestNode me, List<SyncEntry> listing, Func<List<string>, (string, List<string>)> answer)
        {
            _me = me;
            _listing = listing;
            _answer = answer;
            _listener.Start();
            _loop = LoopAsync();
        }

        public string Address => _listener.LocalEndpoint.ToString()!;

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket s;
                try
                {
                    s = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch
                {
                    return;
                }

                _ = Task.Run(() => ServeAsync(s));
            }
        }

        private async Task ServeAsync(Socket s)
        {
            try
            {
                var ssl = new SslStream(new NetworkStream(s, ownsSocket: true));
                await ssl.AuthenticateAsServerAsync(TlsSetup.Server(_me.Node.Identity, _ => true));
                await using var ctl = new ControlChannel(ssl, s);
                var cert = new System.Security.Cryptography.X509Certificates.X509Certificate2(ssl.RemoteCertificate!);
                var peer = _me.Node.Store.ListPeers()[0];
                while (true)
                {
                    var f = await ctl.ReceiveAsync();
                    lock (Seen)
                    {
                        Seen.Add(f.Type.ToString());
                    }

                    switch (f.Type)
                    {
                        case FrameType.Hello:
                            await ctl.SendAsync(FrameType.Hello, new Messages.Hello(Messages.ProtocolVersion, "hostile", "x").Encode());
                            break;
                        case FrameType.FolderOpen:
                            await ctl.SendAsync(FrameType.FolderOk, new WireWriter().U8(1));
                            break;
                        case FrameType.ListRequest:
                            await ctl.SendAsync(FrameType.ListPart, FolderMessages.EncodeList(_listing));
                            await ctl.SendAsync(FrameType.ListEnd, ReadOnlyMemory<byte>.Empty);
                            break;
                        case FrameType.Pull:
                            var asked = FolderMessages.DecodePaths(f.Payload);
                            var (root, paths) = _answer(asked);
                            var tree = TreeScanner.ScanFiles(root, paths);
                            var session = new SendSession(_me.Node.Identity, _me.Node.Store, peer, new SendOptions(), null, NullLogger.Instance);
                            await session.RunAsync(ctl, IPAddress.Loopback, cert, tree, CancellationToken.None);
                            break;
                        case FrameType.Bye:
                            return;
                        default:
                            return;
                    }
                }
            }
            catch (Exception ex)
            {
                lock (Seen)
                {
                    Seen.Add("EX " + ex.GetType().Name + ": " + ex.Message);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch
            {
            }
        }
    }

    [Fact]
    public async Task APullsAnswer_HoldingFilesThatWereNotAskedFor_IsRefused_AndWritesNothing()
    {
        using var tmp = new TempDir();
        await using var victim = TestNode.Create(tmp.Path, "victim");
        await using var hostile = TestNode.Create(tmp.Path, "hostile");
        hostile.Node.Store.AddPeer(victim.Node.Identity.Id, "victim", null);

        // What the owner really sends.
        string evil = tmp.Sub("evil");
        Directory.CreateDirectory(Path.Combine(evil, ".git", "hooks"));
        File.WriteAllText(Path.Combine(evil, "wanted.txt"), "harmless");
        File.WriteAllText(Path.Combine(evil, ".git", "hooks", "post-checkout"), "#!/bin/sh\necho pwned > /tmp/pwned\n");
        File.SetUnixFileMode(Path.Combine(evil, ".git", "hooks", "post-checkout"), (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(evil, "keep.txt"), "OVERWRITTEN BY OWNER");
        var wantedInfo = new FileInfo(Path.Combine(evil, "wanted.txt"));
        var listing = new List<SyncEntry> { new("wanted.txt", wantedInfo.Length, wantedInfo.LastWriteTimeUtc.Ticks) };

        await using var owner = new HostileOwner(hostile, listing, asked => (evil, [.. asked, ".git/hooks/post-checkout", "keep.txt"]));
        victim.Node.Store.AddPeer(hostile.Node.Identity.Id, "hostile", owner.Address);

        // The victim's local project: keep.txt is its own (newer) file; .git is excluded.
        string dest = tmp.Sub("project");
        Directory.CreateDirectory(Path.Combine(dest, ".git", "hooks"));
        File.WriteAllText(Path.Combine(dest, "keep.txt"), "MINE");

        var r = await Run(victim.Home, "copy", "hostile:data", dest, "--exclude", ".git/**", "--exclude", "keep.txt", "--json");
        string seen;
        lock (owner.Seen)
        {
            seen = string.Join(",", owner.Seen);
        }

        string hook = Path.Combine(dest, ".git", "hooks", "post-checkout");
        string report = $"exit {r.Code}; wanted.txt={File.Exists(Path.Combine(dest, "wanted.txt"))}; hook planted={File.Exists(hook)} mode={(File.Exists(hook) ? File.GetUnixFileMode(hook).ToString() : "-")}; keep.txt='{File.ReadAllText(Path.Combine(dest, "keep.txt"))}'; owner saw {seen}";
        Assert.True(!File.Exists(hook) && File.ReadAllText(Path.Combine(dest, "keep.txt")) == "MINE", report);
        Assert.False(File.Exists(Path.Combine(dest, "wanted.txt")), "nothing of a refused answer is written");
        Assert.NotEqual(0, r.Code);
    }

    [Fact]
    public async Task NamesWithNewlinesAndEscapes_AreWrittenEscaped_SoTheyCannotForgeTheLog()
    {
        using var tmp = new TempDir();
        await using var victim = TestNode.Create(tmp.Path, "victim");
        await using var hostile = TestNode.Create(tmp.Path, "hostile");
        hostile.Node.Store.AddPeer(victim.Node.Identity.Id, "victim", null);
        string evil = tmp.Sub("evil");
        Directory.CreateDirectory(evil);
        string name = "a.txt\n2026-12-03T00:00:00Z error    FORGED LINE\u001b[31mRED";
        File.WriteAllText(Path.Combine(evil, name), "x");
        var fi = new FileInfo(Path.Combine(evil, name));
        await using var owner = new HostileOwner(hostile, [new(name, fi.Length, fi.LastWriteTimeUtc.Ticks)], asked => (evil, asked));
        victim.Node.Store.AddPeer(hostile.Node.Identity.Id, "hostile", owner.Address);
        string dest = tmp.Sub("dest");
        var r = await Run(victim.Home, "copy", "hostile:data", dest);
        Assert.False(r.Err.Contains("\n2026-12-03T00:00:00Z", StringComparison.Ordinal) || r.Err.Contains('\u001b'), "victim stderr:\n" + r.Err.Replace("\u001b", "<ESC>"));
    }
}
