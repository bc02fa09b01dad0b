using Haul.Cli;

return await Cli.RunAsync(args).ConfigureAwait(false);
