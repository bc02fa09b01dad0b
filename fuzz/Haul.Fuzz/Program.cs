using Haul.Fuzz;
using SharpFuzz;

// Usage: Haul.Fuzz TARGET                 run TARGET under afl-fuzz (SharpFuzz's in-process persistent mode)
//        Haul.Fuzz TARGET FILE...          run TARGET once per file (reproduce a finding)
//        Haul.Fuzz --corpus DIR            write the seed corpora, DIR/<target>/*, from real encoded messages
if (args.Length == 2 && args[0] == "--corpus")
{
    Corpus.Write(args[1]);
    return 0;
}

if (args.Length < 1 || !Targets.All.TryGetValue(args[0], out var target))
{
    await Console.Error.WriteLineAsync($"usage: Haul.Fuzz TARGET [FILE...] | --corpus DIR; targets: {string.Join(", ", Targets.All.Keys)}").ConfigureAwait(false);
    return 2;
}

if (args.Length > 1)
{
    foreach (var file in args.Skip(1))
    {
        target(await File.ReadAllBytesAsync(file).ConfigureAwait(false));
        Console.WriteLine($"{file}: ok");
    }

    return 0;
}

Fuzzer.Run(stream =>
{
    using var ms = new MemoryStream();
    stream.CopyTo(ms);
    target(ms.ToArray());
});
return 0;
