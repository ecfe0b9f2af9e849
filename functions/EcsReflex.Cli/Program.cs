using EcsReflex.Cli;

return await CliApp.RunAsync(args, Console.Out, Console.Error, Console.OpenStandardOutput(), new SystemTerminal());
