using System.Security.Cryptography;
using Haul.Tests.Support;
using Haul.Transport;

namespace Haul.Tests.Transport;

/// <summary>
/// The data channel's AES-GCM on AES-NI/PCLMULQDQ must be AES-GCM: the published test vectors, the
/// same ciphertext and tag as the base library's (OpenSSL) on random keys, nonces, lengths and
/// associated data, and no plaintext released for anything altered.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AesGcmNiTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s);

    [AesNiTheory]
    // The GCM specification's test cases 13-16 (McGrew and Viega; 256-bit key), and 1-4 (128-bit key).
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919")]
    [InlineData("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255", "",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad", "b094dac5d93471bdec1a502270e3cc6c")]
    [InlineData("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662", "76fc6ece0f4e1768cddf8853bb2d551b")]
    [InlineData("00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a")]
    [InlineData("00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "", "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf")]
    [InlineData("feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091", "5bc94fbc3221a5db94fae95ae7121a47")]
    public void MatchesThePublishedVectors(string key, string nonce, string plain, string aad, string cipher, string tag)
    {
        var g = new AesGcmNi(Hex(key));
        var p = Hex(plain);
        var c = new byte[p.Length];
        var t = new byte[16];
        g.Encrypt(Hex(nonce), p, c, t, Hex(aad));
        Assert.Equal(cipher, Convert.ToHexStringLower(c));
        Assert.Equal(tag, Convert.ToHexStringLower(t));

        var back = new byte[c.Length];
        Assert.True(g.TryDecrypt(Hex(nonce), c, t, back, Hex(aad)));
        Assert.Equal(p, back);
    }

    [AesNiFact]
    public void AgreesWithTheBaseLibrary_OnRandomInputs_AndRefusesAnythingAltered()
    {
        var rng = new Random(20261130);
        int[] lengths = [0, 1, 15, 16, 17, 31, 48, 63, 64, 65, 127, 128, 129, 1000, 1371, 1400, 1436, 4099, 9000];
        int[] aadLengths = [0, 1, 16, 20, 28, 33];
        foreach (int keyLen in new[] { 16, 32 })
        {
            for (int round = 0; round < 6; round++)
            {
                var key = new byte[keyLen];
                rng.NextBytes(key);
                var ours = new AesGcmNi(key);
                using var theirs = new AesGcm(key, 16);
                foreach (int len in lengths)
                {
                    foreach (int aadLen in aadLengths)
                    {
                        var nonce = new byte[12];
                        var plain = new byte[len];
                        var aad = new byte[aadLen];
                        rng.NextBytes(nonce);
                        rng.NextBytes(plain);
                        rng.NextBytes(aad);
                        var c1 = new byte[len];
                        var t1 = new byte[16];
                        var c2 = new byte[len];
                        var t2 = new byte[16];
                        ours.Encrypt(nonce, plain, c1, t1, aad);
                        theirs.Encrypt(nonce, plain, c2, t2, aad);
                        Assert.True(c1.AsSpan().SequenceEqual(c2), $"ciphertext, key {keyLen}, length {len}, aad {aadLen}");
                        Assert.True(t1.AsSpan().SequenceEqual(t2), $"tag, key {keyLen}, length {len}, aad {aadLen}");

                        var back = new byte[len];
                        Assert.True(ours.TryDecrypt(nonce, c1, t1, back, aad));
                        Assert.True(back.AsSpan().SequenceEqual(plain));

                        // One bit flipped anywhere (ciphertext, tag, associated data, nonce): refused, and
                        // nothing written where the plaintext would go.
                        var sentinel = new byte[len];
                        Array.Fill(sentinel, (byte)0xA5);
                        foreach (int where in new[] { 0, 1, 2, 3 })
                        {
                            var c = (byte[])c1.Clone();
                            var t = (byte[])t1.Clone();
                            var a = (byte[])aad.Clone();
                            var n = (byte[])nonce.Clone();
                            switch (where)
                            {
                                case 0 when len > 0: c[rng.Next(len)] ^= (byte)(1 << rng.Next(8)); break;
                                case 1: t[rng.Next(16)] ^= (byte)(1 << rng.Next(8)); break;
                                case 2 when aadLen > 0: a[rng.Next(aadLen)] ^= (byte)(1 << rng.Next(8)); break;
                                case 3: n[rng.Next(12)] ^= (byte)(1 << rng.Next(8)); break;
                                default: continue;
                            }

                            var outBuf = (byte[])sentinel.Clone();
                            Assert.False(ours.TryDecrypt(n, c, t, outBuf, a), $"altered ({where}) accepted, key {keyLen}, length {len}");
                            Assert.True(outBuf.AsSpan().SequenceEqual(sentinel), "plaintext written for a refused packet");
                        }
                    }
                }
            }
        }
    }

    [AesNiFact]
    public void PacketsSealedOneWay_OpenTheOther()
    {
        // Both ends of a session may differ (one CPU without AES-NI): the codec's packets must open under
        // the base library's AES-GCM and the other way round.
        var key = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var aad = RandomNumberGenerator.GetBytes(28);
        var plain = RandomNumberGenerator.GetBytes(1400);
        var c = new byte[plain.Length];
        var t = new byte[16];
        new AesGcmNi(key).Encrypt(nonce, plain, c, t, aad);
        using var platform = new AesGcm(key, 16);
        var back = new byte[plain.Length];
        platform.Decrypt(nonce, c, t, back, aad);
        Assert.Equal(plain, back);

        platform.Encrypt(nonce, plain, c, t, aad);
        Array.Clear(back);
        Assert.True(new AesGcmNi(key).TryDecrypt(nonce, c, t, back, aad));
        Assert.Equal(plain, back);
    }
}
