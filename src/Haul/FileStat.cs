namespace Haul;

/// <summary>What the tree index keys a file's identity on: if all four are unchanged, so is its content.</summary>
internal readonly record struct FileStat(long Size, long MtimeNs, long Inode, long CtimeNs);
