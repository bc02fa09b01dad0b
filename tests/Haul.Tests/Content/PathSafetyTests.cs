using Haul.Content;

namespace Haul.Tests.Content;

[Trait("Category", "Unit")]
public sealed class PathSafetyTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("a/b/c.txt", true)]
    [InlineData("données/été.csv", true)]
    [InlineData("", false)]
    [InlineData("/a", false)]
    [InlineData("a/../b", false)]
    [InlineData("a/", false)]
    [InlineData("a\0b", false)]
    public void IsSafeRelative(string path, bool safe) => Assert.Equal(safe, PathSafety.IsSafeRelative(path, out _));

    [Theory]
    [InlineData("ds/a/l", "../b", true)]
    [InlineData("ds/l", "sub/./x", true)]
    [InlineData("ds/l", "../other", false)]
    [InlineData("ds/a/l", "../../../x", false)]
    [InlineData("ds/l", "/abs", false)]
    [InlineData("ds/a/b/l", "../../c", true)]
    [InlineData("ds/l", "s/s/../../x", false)]
    [InlineData("ds/l", "a/../b", false)]
    [InlineData("ds/a/l", "../s/..", false)]
    public void SymlinkStaysInside(string link, string target, bool inside) => Assert.Equal(inside, PathSafety.SymlinkStaysInside(link, target));
}
