using System.Runtime.Versioning;

// Haul targets Linux (x64 and ARM64): the data channel uses Linux UDP offloads and POSIX file modes.
[assembly: SupportedOSPlatform("linux")]
