using FsCheck;
using FsCheck.Fluent;
using Haul.Security;

namespace Haul.Tests.Security;

[Trait("Category", "Unit")]
public sealed class NodeIdTests
{
    [Fact]
    public void Format_IsEightGroupsOfSevenWithCheckCharacters()
    {
        var id = NodeId.FromHash(new byte[32]);
        var text = id.ToString();
        Assert.Equal(63, text.Length);
        Assert.Equal(8, text.Split('-').Length);
        Assert.True(NodeId.TryParse(text, out var back));
        Assert.Equal(id, back);
        Assert.True(NodeId.TryParse(text.Replace("-", string.Empty).ToLowerInvariant(), out back));
        Assert.Equal(id, back);
    }

    [Fact]
    public void AnySingleCharacterTypo_IsDetected() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), Arb.From(Gen.Choose(0, 55)), Arb.From(Gen.Choose(1, 31)), (raw, pos, delta) =>
        {
            var hash = new byte[32];
            (raw ?? []).AsSpan(0, Math.Min(32, raw?.Length ?? 0)).CopyTo(hash);
            string canonical = NodeId.FromHash(hash).Canonical;
            const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            var chars = canonical.ToCharArray();
            chars[pos] = alphabet[(alphabet.IndexOf(chars[pos]) + delta) % 32];
            return !NodeId.TryParse(new string(chars), out _);
        }).QuickCheckThrowOnFailure();

    [Theory]
    [InlineData("")]
    [InlineData("not-an-id")]
    [InlineData("AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAA1")]
    public void Garbage_DoesNotParse(string text) => Assert.False(NodeId.TryParse(text, out _));
}
