using FsCheck;
using FsCheck.Fluent;
using Haul.Security;

namespace Haul.Tests.Security;

[Trait("Category", "Unit")]
public sealed class InviteTokenTests
{
    private static InviteToken Sample() => new("127.0.0.1:7400", NodeId.FromHash(new byte[32]), Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), DateTimeOffset.FromUnixTimeSeconds(2_000_000_000));

    [Fact]
    public void RoundTrips()
    {
        var t = Sample();
        var d = InviteToken.Decode(t.Encode());
        Assert.Equal(t.Address, d.Address);
        Assert.Equal(t.NodeId, d.NodeId);
        Assert.Equal(t.Secret, d.Secret);
        Assert.Equal(t.Expires, d.Expires);
    }

    [Fact]
    public void AnyEditedCharacter_IsRejectedAsBadToken()
    {
        string text = Sample().Encode();
        for (int i = 6; i < text.Length; i++)
        {
            var chars = text.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            Assert.Equal(ErrorCode.BadToken, Assert.Throws<HaulException>(() => InviteToken.Decode(new string(chars))).Code);
        }

        Assert.Equal(ErrorCode.BadToken, Assert.Throws<HaulException>(() => InviteToken.Decode(text[..^3])).Code);
    }

    [Fact]
    public void RandomStrings_AreRejectedAsBadToken() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), s =>
        {
            foreach (var input in new[] { s ?? string.Empty, "haul1-" + s })
            {
                try
                {
                    InviteToken.Decode(input);
                }
                catch (HaulException ex) when (ex.Code == ErrorCode.BadToken)
                {
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
}
