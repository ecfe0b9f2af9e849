using System.Text;
using EcsReflex.Lambda.Client;

// The floor of the cold-start bench (bench/README.md, issue 17): what any custom runtime must do and nothing more.
// AWS_LAMBDA_RUNTIME_API, then for ever: GET invocation/next, copy the trace id to _X_AMZN_TRACE_ID, POST
// invocation/{id}/response with the same small JSON. The HTTP is the bootstrap's own RuntimeApiClient (linked source);
// no policy, no handler, no logs, no AWS SDK. Published as the bootstrap is (../../functions/EcsReflex.Lambda/NativeAot.props).
if (Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API") is not { Length: > 0 } runtimeApi)
{
    Console.Error.WriteLine("minimal-loop: AWS_LAMBDA_RUNTIME_API is not set (the cold-start bench runs it under the Runtime API emulator)");
    return 1;
}

var answer = Encoding.UTF8.GetBytes(MinimalLoop.Answer);
using var client = new RuntimeApiClient(runtimeApi);
while (true)
{
    var invocation = await client.GetNextInvocationAsync(CancellationToken.None);
    Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", invocation.TraceId);
    await client.SendResponseAsync(invocation.RequestId, answer, CancellationToken.None);
}

/// <summary>What the loop answers to every invocation (the bench and the test check it).</summary>
public static class MinimalLoop
{
    public const string Answer = """{"outcome":"floor"}""";
}
