namespace Haul.Content;

internal enum EntryKind : byte
{
    File = 0,
    Directory = 1,
    Symlink = 2,
}
