using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Haul.Node;
using Haul.Protocol;
using Haul.Security;
using Haul.Sync;
using Haul.Tests.Support;
using Haul.Transfer;
using Microsoft.Data.Sqlite;

namespace Haul.Tests.Node;

/// <summary>
/// A paired peer is an authenticated organisation, not a harmless one: names it sends, addresses it
/// names and connections it holds open, tried against real serving nodes.
/// </summary>
[Collection("nodes")]
public sealed class HostileIdentityTests
{
    /// <summary>Names a joiner may send; "LONG" stands for 300 characters, "ABS" for an absolute path (inside the test's folder, so a node without the fix writes nothing outside it).</summary>
    public static TheoryData<string> HostileNames => ["../..", "..", ".", "a/b", "ABS", "", "LONG", "ctl\u0001\n\u0000x", "-rf", "a\\b", "x:y", " spaced "];

    private static string Expand(string name, TempDir tmp) => name switch
    {
        "LONG" => new string('n', 300),
        "ABS" => tmp.Sub("abs"),
        _ => name,
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task AJoinUnderAHostileName_IsFiledUnderASafeName_AndItsSendsLandInsideTheInbox(string sent)
    {
        using var tmp = new TempDir();
        string name = Expand(sent, tmp);
        await using var b = TestNode.Create(tmp.Path, "lab-b").Serve();
        await using var evil = TestNode.Create(tmp.Path, "evil");
        var token = b.Node.Invite(b.Address, TimeSpan.FromMinutes(5));

        // The joiner's own client, so the HELLO and the JOIN carry the name it chose.
        await using (var c = await HostileClient.ConnectAsync(evil.Node.Identity, b.Node.Identity.Id, b.Server!.LocalEndPoint, join: true))
        {
            await c.SendHelloAsync(name);
            await c.SendFrameAsync(FrameType.Join, new Messages.Join(token.Secret, name).Encode());
            Assert.Equal(FrameType.Hello, (await c.Channel.ReceiveAsync()).Type);
            Assert.Equal(FrameType.JoinOk, (await c.Channel.ReceiveAsync()).Type);
        }

        string filed = NodeName.Fallback(evil.Node.Identity.Id);
        Assert.Equal(filed, b.Node.Store.FindPeer(evil.Node.Identity.Id)!.Name);
        Assert.True(b.Logs.Contains("not a usable peer name"), string.Join('\n', b.Logs.Lines));

        // Its next send lands in INBOX/peer-xxxxxxx, and nowhere outside the inbox.
        evil.Node.Store.AddPeer(b.Node.Identity.Id, "lab-b", b.Address);
        string src = tmp.Sub("from/payload");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "authorized_keys"), "ssh-ed25519 AAAA evil");
        await evil.Node.SendAsync(src, "lab-b");

        Assert.True(File.Exists(Path.Combine(b.Inbox, filed, "payload", "authorized_keys")));
        var copies = Directory.EnumerateFiles(tmp.Path, "authorized_keys", SearchOption.AllDirectories).Where(f => !f.StartsWith(src + Path.DirectorySeparatorChar, StringComparison.Ordinal)).ToList();
        Assert.All(copies, f => Assert.StartsWith(b.Inbox + Path.DirectorySeparatorChar, f, StringComparison.Ordinal));
        Assert.Single(copies);
    }

    [Fact]
    public async Task AnInviterUnderAHostileName_IsFiledUnderASafeName_OnTheJoiningSide()
    {
        using var tmp = new TempDir();
        await using var b = TestNode.Create(tmp.Path, "lab-b");
        b.Node.Store.SetMeta("name", "../../.ssh"); // what its HELLO and JOIN_OK will say
        b.Serve();
        await using var a = TestNode.Create(tmp.Path, "lab-a");

        var peer = await a.Node.JoinAsync(b.Node.Invite(b.Address, TimeSpan.FromMinutes(5)).Encode());

        Assert.Equal(NodeName.Fallback(b.Node.Identity.Id), peer.Name);
        Assert.True(a.Logs.Contains("not a usable peer name"));
    }

    [Fact]
    public async Task AStoredNameThatLeavesTheInbox_RefusesTheSend_AndNothingIsWritten()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);

        // A database from before names were checked, or edited by hand.
        using (var db = new SqliteConnection($"Data Source={HaulHome.DatabasePath(pair.B.Home)};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "UPDATE peers SET name='../..' WHERE node_id=$i";
            cmd.Parameters.AddWithValue("$i", pair.A.Node.Identity.Id.Canonical);
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }

        string src = tmp.Sub("from/payload");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "authorized_keys"), "ssh-ed25519 AAAA evil");

        var ex = await Assert.ThrowsAsync<HaulException>(() => pair.A.Node.SendAsync(src, "lab-b"));

        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
        Assert.False(Directory.Exists(tmp.Sub("payload"))); // where INBOX/../.. would have put it
        Assert.Single(Directory.EnumerateFiles(tmp.Path, "authorized_keys", SearchOption.AllDirectories));
        Assert.True(pair.B.Logs.Contains("refused a send from peer '../..'"), string.Join('\n', pair.B.Logs.Lines));
    }

    [Theory]
    [InlineData("lab-a", true)]
    [InlineData("lab.example_2", true)]
    [InlineData("büro7", true)]
    [InlineData("..", false)]
    [InlineData(".hidden", false)]
    [InlineData("-x", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("a\u202Eb", false)]
    [InlineData("", false)]
    public void TheNameRule_AdmitsOnlyOnePlainPathComponent(string name, bool valid) => Assert.Equal(valid, NodeName.IsValid(name));

    [Fact]
    public void TheNameRule_RefusesANameThatReadsAsANodeId_AndOneOver64Chars()
    {
        using var tmp = new TempDir();
        using var id = NodeIdentity.Create(tmp.Sub("x"), "x");
        Assert.False(NodeName.IsValid(id.Id.ToString()));
        Assert.False(NodeName.IsValid(id.Id.Canonical));
        Assert.True(NodeName.IsValid(new string('a', 64)));
        Assert.False(NodeName.IsValid(new string('a', 65)));
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => HaulNode.Init(tmp.Sub("y"), "../y")).Code);
    }

    [Fact]
    public async Task PeerNamesTypedByAUser_AreCheckedByTheSameRule_InTheStoreJoinCliAndApi()
    {
        using var tmp = new TempDir();
        await using var b = TestNode.Create(tmp.Path, "lab-b").Serve();
        await using var a = TestNode.Create(tmp.Path, "lab-a");
        var bId = b.Node.Identity.Id;

        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => a.Node.Store.AddPeer(bId, "../..", null)).Code);

        // A refused --name does not use up the invite.
        string token = b.Node.Invite(b.Address, TimeSpan.FromMinutes(5)).Encode();
        Assert.Equal(ErrorCode.Usage, (await Assert.ThrowsAsync<HaulException>(() => a.Node.JoinAsync(token, "../.."))).Code);
        Assert.Equal("ok-name", (await a.Node.JoinAsync(token, "ok-name")).Name);

        var cli = await HaulProcess.RunAsync("--home", a.Home, "peer", "add", bId.ToString(), "--name", "../..");
        Assert.Equal((int)ErrorCode.Usage, cli.Code);
        Assert.Contains("not a usable peer name", cli.Err, StringComparison.Ordinal);

        // POST /api/v1/peers on a serving node's API.
        string home = tmp.Sub("api");
        Assert.Equal(0, (await HaulProcess.RunAsync("--home", home, "init", "--name", "api-node")).Code);
        int apiPort = HaulProcess.FreePort();
        using var serve = HaulProcess.Start("--home", home, "serve", "--listen", $"127.0.0.1:{HaulProcess.FreePort()}", "--api", $"127.0.0.1:{apiPort}");
        for (int i = 0; i < 300 && !serve.Stderr.Contains("REST API on", StringComparison.Ordinal) && !serve.HasExited; i++)
        {
            await Task.Delay(50);
        }

        string apiToken = (await HaulProcess.RunAsync("--home", home, "token", "show")).Out.Trim();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiToken);
        using var body = new StringContent($$"""{"id":"{{bId}}","name":"../.."}""", Encoding.UTF8, "application/json");
        using var res = await http.PostAsync(new Uri("/api/v1/peers", UriKind.Relative), body);
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        Assert.Contains("not a usable peer name", await res.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void RemovingAPeer_RevokesItsFolderGrants_SoAddingItAgainGrantsNothing()
    {
        using var tmp = new TempDir();
        using var store = new Haul.State.NodeStore(tmp.Sub("haul.db"));
        using var id = NodeIdentity.Create(tmp.Sub("peer"), "peer");
        store.AddPeer(id.Id, "partner", null);
        store.SetFolder("data", tmp.Sub("data"));
        store.SetShare("data", id.Id, Haul.State.ShareAccess.ReadWrite);

        Assert.True(store.RemovePeer("partner"));
        Assert.Empty(store.FindFolder("data")!.Shares);

        store.AddPeer(id.Id, "someone-else", null);
        Assert.Empty(store.FindFolder("data")!.Shares);
    }

    [Fact]
    public async Task ARemovedPeerThatPairsAgain_HasNoAccessToTheFoldersItWasGranted()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        Directory.CreateDirectory(tmp.Sub("owned"));
        pair.B.Node.Store.SetFolder("data", tmp.Sub("owned"));
        pair.B.Node.Store.SetShare("data", pair.A.Node.Identity.Id, Haul.State.ShareAccess.ReadWrite);
        await using (await PeerEnd.OpenAsync(pair.A.Home, "lab-b", "data/x", write: true, "lab-b:data/x", CancellationToken.None))
        {
            // The grant works while it stands.
        }

        Assert.True(pair.B.Node.Store.RemovePeer("lab-a"));
        await pair.B.PairWith(pair.A); // a new invite, the same node ID

        var ex = await Assert.ThrowsAsync<HaulException>(async () =>
        {
            await using var end = await PeerEnd.OpenAsync(pair.A.Home, "lab-b", "data/x", write: true, "lab-b:data/x", CancellationToken.None);
        });
        Assert.Equal(ErrorCode.UnknownFolder, ex.Code);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AReceiverNamingAnotherUdpHost_GetsTheDataAtItsControlAddress_UnlessTheSenderChoseThatHost(bool senderAllowsIt)
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { UdpAdvertiseHost = "127.0.0.3" });
        // Whatever the receiver aims the sender at: here a socket that only counts what reaches it.
        using var victim = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.3"), pair.B.Server!.UdpEndPoint!.Port));
        int hits = 0;
        using var stop = new CancellationTokenSource();
        var counter = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await victim.ReceiveAsync(stop.Token);
                    Interlocked.Increment(ref hits);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        string src = Trees.Mixed(tmp.Sub("src"), files: 10);
        var options = new SendOptions { UdpHosts = senderAllowsIt ? ["127.0.0.3"] : [], ProbeTimeout = TimeSpan.FromMilliseconds(800) };

        var result = await pair.A.Node.SendAsync(src, "lab-b", options);
        await Task.Delay(200);
        await stop.CancelAsync();
        await counter;

        Trees.AssertSame(src, pair.Landed("dataset"));
        if (senderAllowsIt)
        {
            // Configured on the sending side: the named host is used (and here it answers nothing, so the data falls back to TCP).
            Assert.True(Volatile.Read(ref hits) > 0);
        }
        else
        {
            Assert.Equal(0, Volatile.Read(ref hits));
            Assert.StartsWith("udp", result.Mode, StringComparison.Ordinal);
            Assert.True(pair.A.Logs.Contains("the receiver named UDP host '127.0.0.3'"), string.Join('\n', pair.A.Logs.Lines));
        }
    }
    [Fact]
    public async Task AHalfOpenHandshake_IsClosedWithinTheDeadline_AndLogged()
    {
        using var tmp = new TempDir();
        await using var b = TestNode.Create(tmp.Path, "lab-b").Serve(new ServeOptions { HandshakeTimeout = TimeSpan.FromSeconds(1) });

        await using var c = await HostileClient.ConnectTcpAsync(b.Server!.LocalEndPoint);

        Assert.True(await c.ClosedWithinAsync(TimeSpan.FromSeconds(5)));
        await WaitFor(() => b.Logs.Contains("not completed within 1 s"));
    }

    [Fact]
    public async Task APairedPeerThatSendsNoHello_IsClosedWithinTheDeadline()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { HelloTimeout = TimeSpan.FromSeconds(1) });

        await using var c = await HostileClient.ConnectAsync(pair.A.Node.Identity, pair.B.Node.Identity.Id, pair.B.Server!.LocalEndPoint);

        Assert.True(await c.ClosedWithinAsync(TimeSpan.FromSeconds(5)));
        await WaitFor(() => pair.B.Logs.Contains("no HELLO within 1 s"));
    }

    [Fact]
    public async Task AnUnpairedJoiner_MustSendHelloAndJoinInTime_AndOnlySmallFrames()
    {
        using var tmp = new TempDir();
        await using var b = TestNode.Create(tmp.Path, "lab-b").Serve(new ServeOptions { JoinTimeout = TimeSpan.FromSeconds(1) });
        await using var stranger = TestNode.Create(tmp.Path, "stranger");
        b.Node.Invite(b.Address, TimeSpan.FromMinutes(5)); // a pending invite opens the join door

        await using (var c = await HostileClient.ConnectAsync(stranger.Node.Identity, b.Node.Identity.Id, b.Server!.LocalEndPoint, join: true))
        {
            await c.SendHelloAsync("stranger");
            Assert.True(await c.ClosedWithinAsync(TimeSpan.FromSeconds(5)));
        }

        await WaitFor(() => b.Logs.Contains("no HELLO and JOIN within 1 s"));

        // A 16 MiB frame is refused from its header, before anything is allocated for it.
        await using (var c = await HostileClient.ConnectAsync(stranger.Node.Identity, b.Node.Identity.Id, b.Server!.LocalEndPoint, join: true))
        {
            await c.SendFrameAsync(FrameType.Hello, new byte[16], Frame.MaxPayload);
            Assert.True(await c.ClosedWithinAsync(TimeSpan.FromMilliseconds(500)));
        }

        await WaitFor(() => b.Logs.Contains("exceeds the 4096-byte limit"));
        Assert.Null(b.Node.Store.FindPeer(stranger.Node.Identity.Id));
    }

    [Fact]
    public async Task AFrameDrippedAByteAtATime_IsCut_ButSilenceBetweenFramesIsNot()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { FrameGrace = TimeSpan.FromSeconds(1), FrameMinBytesPerSecond = 1024 });
        var (me, node, at) = (pair.A.Node.Identity, pair.B.Node.Identity.Id, pair.B.Server!.LocalEndPoint);

        await using (var quiet = await HostileClient.ConnectAsync(me, node, at))
        {
            await quiet.SendHelloAsync("lab-a");
            Assert.False(await quiet.ClosedWithinAsync(TimeSpan.FromSeconds(2.5)), "a paired peer may be silent between frames");
        }

        await using (var slow = await HostileClient.ConnectAsync(me, node, at))
        {
            await slow.SendHelloAsync("lab-a");
            await slow.SendFrameAsync(FrameType.Offer, ReadOnlyMemory<byte>.Empty, declaredLength: 1_000_000);
            var closed = slow.ClosedWithinAsync(TimeSpan.FromSeconds(8));
            var sw = System.Diagnostics.Stopwatch.StartNew();
            while (!closed.IsCompleted)
            {
                try
                {
                    await slow.SendRawAsync(new byte[1]);
                }
                catch (IOException)
                {
                    break;
                }

                await Task.WhenAny(closed, Task.Delay(250));
            }

            Assert.True(await closed, "the dripped frame was never cut");
            Assert.InRange(sw.Elapsed.TotalSeconds, 0, 5);
        }

        await WaitFor(() => pair.B.Logs.Contains("came too slowly"));

        string src = Trees.Mixed(tmp.Sub("src"), files: 5);
        await pair.A.Node.SendAsync(src, "lab-b");
        Trees.AssertSame(src, pair.Landed("dataset"));
    }

    [Fact]
    public async Task AnIdlePairedConnection_IsClosedBetweenRequests_ButNotDuringASilentDataPhase()
    {
        using var tmp = new TempDir();
        var quick = TimeSpan.FromSeconds(1);
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { IdleTimeout = quick, FrameGrace = quick });

        await using (var idle = await HostileClient.ConnectAsync(pair.A.Node.Identity, pair.B.Node.Identity.Id, pair.B.Server!.LocalEndPoint))
        {
            await idle.SendHelloAsync("lab-a");
            Assert.True(await idle.ClosedWithinAsync(TimeSpan.FromSeconds(5)));
        }

        await WaitFor(() => pair.B.Logs.Contains("no request within 1 s"));

        // 8 MiB at 3 MB/s: about 3 s of UDP data during which the sender says nothing on the control channel.
        string src = tmp.Sub("src/big");
        Trees.WriteRandom(Path.Combine(src, "blob.bin"), 8 << 20, 3);
        var rate = new Haul.Transfer.Congestion.RatePolicy { Mode = Haul.Transfer.Congestion.RateMode.Fixed, MaxBytesPerSec = 3e6, InitialBytesPerSec = 3e6 };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var result = await pair.A.Node.SendAsync(src, "lab-b", new SendOptions { Rate = rate });
        Assert.True(sw.Elapsed > 2 * quick, $"the data phase took only {sw.Elapsed.TotalSeconds:0.0} s");
        Assert.StartsWith("udp", result.Mode, StringComparison.Ordinal);
        Assert.True(Trees.SameBytes(Path.Combine(src, "blob.bin"), pair.Landed("big/blob.bin")));
    }

    [Fact]
    public async Task ConnectionsOverThePerAddressCap_AreRefused_WhileAPairedSendStillWorks()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { MaxUnauthenticatedPerAddress = 4, HandshakeTimeout = TimeSpan.FromSeconds(30) });
        var at = pair.B.Server!.LocalEndPoint;
        var attacker = IPAddress.Parse("127.0.0.2");
        var held = new List<HostileClient>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                held.Add(await HostileClient.ConnectTcpAsync(at, attacker));
            }

            for (int i = 0; i < 3; i++)
            {
                Assert.True(await RefusedAsync(at, attacker), $"extra connection {i} was kept");
            }

            Assert.False(await held[0].ClosedWithinAsync(TimeSpan.FromMilliseconds(200)), "the connections within the cap are kept");
            await WaitFor(() => pair.B.Logs.Contains("from 127.0.0.2 not yet authenticated (the limit per address)"));

            string src = Trees.Mixed(tmp.Sub("src"), files: 5);
            await pair.A.Node.SendAsync(src, "lab-b");
            Trees.AssertSame(src, pair.Landed("dataset"));
        }
        finally
        {
            foreach (var c in held)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task APairedPeerOverItsConnectionCap_IsRefused_AndGetsInAgainOnceItsOthersClose()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { MaxConnectionsPerPeer = 2 });
        var (me, node, at) = (pair.A.Node.Identity, pair.B.Node.Identity.Id, pair.B.Server!.LocalEndPoint);
        var held = new List<HostileClient>();
        for (int i = 0; i < 2; i++)
        {
            held.Add(await HostileClient.ConnectAsync(me, node, at));
            await held[i].SendHelloAsync("lab-a");
            await held[i].Channel.ExpectAsync(FrameType.Hello); // the node has counted it
        }

        await using (var third = await HostileClient.ConnectAsync(me, node, at))
        {
            Assert.True(await third.ClosedWithinAsync(TimeSpan.FromSeconds(2)));
        }

        await WaitFor(() => pair.B.Logs.Contains("2 connections from this peer open (the limit per peer)"));
        foreach (var c in held)
        {
            await c.DisposeAsync();
        }

        string src = Trees.Mixed(tmp.Sub("src"), files: 5);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await pair.A.Node.SendAsync(src, "lab-b");
                break;
            }
            catch (HaulException) when (attempt < 20)
            {
                await Task.Delay(100); // the node has not yet seen the held connections close
            }
        }

        Trees.AssertSame(src, pair.Landed("dataset"));
    }

    [Fact]
    public async Task ConnectionsOverTheTotalCap_AreRefused_UntilOthersClose()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { MaxConnections = 3, HandshakeTimeout = TimeSpan.FromSeconds(30) });
        var at = pair.B.Server!.LocalEndPoint;
        var held = new List<HostileClient>();
        for (int i = 0; i < 3; i++)
        {
            held.Add(await HostileClient.ConnectTcpAsync(at, IPAddress.Parse("127.0.0." + (2 + i).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        Assert.True(await RefusedAsync(at, IPAddress.Parse("127.0.0.9")));

        await WaitFor(() => pair.B.Logs.Contains("3 connections open (the limit)"));
        foreach (var c in held)
        {
            await c.DisposeAsync();
        }

        string src = Trees.Mixed(tmp.Sub("src"), files: 5);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await pair.A.Node.SendAsync(src, "lab-b");
                break;
            }
            catch (HaulException) when (attempt < 20)
            {
                await Task.Delay(100); // the node has not yet seen the held connections close
            }
        }

        Trees.AssertSame(src, pair.Landed("dataset"));
    }

    [Fact]
    public void TheLimiter_CountsUnauthenticatedConnectionsPerAddress_AndFreesThemOnAuthentication()
    {
        var limiter = new ConnectionLimiter(maxTotal: 4, maxUnauthenticated: 3, maxUnauthenticatedPerAddress: 2, maxPerPeer: 1);
        var a = IPAddress.Parse("192.0.2.1");
        var b = IPAddress.Parse("192.0.2.2");
        var a1 = limiter.TryAdmit(a, out _)!;
        var a2 = limiter.TryAdmit(a, out _)!;
        Assert.Null(limiter.TryAdmit(IPAddress.Parse("::ffff:192.0.2.1"), out string? why));
        Assert.Contains("per address", why, StringComparison.Ordinal);

        Assert.True(a1.TryAuthenticate("PEER", out _)); // a paired peer's connection leaves the unauthenticated counts
        var a3 = limiter.TryAdmit(a, out _)!;
        Assert.False(a3.TryAuthenticate("PEER", out why)); // but one peer holds at most its own limit
        Assert.Contains("the limit per peer", why, StringComparison.Ordinal);
        Assert.NotNull(limiter.TryAdmit(b, out _));
        Assert.Null(limiter.TryAdmit(b, out why));
        Assert.Contains("4 connections open", why, StringComparison.Ordinal);

        a1.Dispose();
        Assert.Null(limiter.TryAdmit(b, out why));
        Assert.Contains("3 connections not yet authenticated", why, StringComparison.Ordinal);

        a2.Dispose();
        Assert.NotNull(limiter.TryAdmit(b, out _));
    }

    /// <summary>A connection the node resets at once: the reset may even beat the end of the client's connect.</summary>
    private static async Task<bool> RefusedAsync(IPEndPoint at, IPAddress from)
    {
        HostileClient c;
        try
        {
            c = await HostileClient.ConnectTcpAsync(at, from);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return true;
        }

        await using (c)
        {
            return await c.ClosedWithinAsync(TimeSpan.FromSeconds(2));
        }
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}
