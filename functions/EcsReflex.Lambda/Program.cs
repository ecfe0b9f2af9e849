using EcsReflex.Lambda;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Configuration;
using EcsReflex.Lambda.Logging;

// The Lambda bootstrap. _HANDLER picks the handler; docs/lambda.md lists the environment it reads.
var env = new ProcessEnvironment();
if (env.Get(EnvVars.RuntimeApi) is not { } runtimeApi)
{
    Console.Error.WriteLine($"bootstrap: {EnvVars.RuntimeApi} is not set. This program runs under AWS Lambda (provided.al2023) "
        + "or the project's Runtime API emulator: `reflex replay --lambda` runs it locally.");
    return 1;
}

var output = new StreamLineWriter(Console.OpenStandardOutput());
var time = TimeProvider.System;
using var client = new RuntimeApiClient(runtimeApi);
var bootstrap = new LambdaBootstrap(client,
    () => HostInit.Create(env, AppContext.BaseDirectory, Composition.Aws(), output, time),
    env, time, output);
return await bootstrap.RunAsync(CancellationToken.None);
