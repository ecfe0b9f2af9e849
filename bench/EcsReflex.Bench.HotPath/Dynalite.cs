using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using EcsReflex.Aws;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.State;

namespace EcsReflex.Bench.HotPath;

/// <summary>
/// dynalite (npm) on a free loopback port, started with the test suite's own script
/// (<c>tests/EcsReflex.Aws.Tests/tools/dynalite-server.js</c>), which prints <c>listening PORT</c> and exits when its standard
/// input closes. Tables are made by the project's own <see cref="DynamoDbStateStore.CreateTableAsync"/>, straight on dynalite
/// (not through the counting proxy).
/// </summary>
public sealed class Dynalite : IAsyncDisposable
{
    private readonly Process _node;
    private readonly AwsClients _clients;
    private int _tables;

    private Dynalite(Process node, Uri endpoint)
    {
        _node = node;
        Endpoint = endpoint;
        _clients = AwsClients.Create(
            new DictionaryEnvironment(new Dictionary<string, string?> { [AwsEndpoints.VariableFor(AwsService.DynamoDb)] = endpoint.ToString(), ["AWS_REGION"] = StubWorld.Region }),
            credentials: new StaticCredentialsSource(new BasicAWSCredentials("AKIDBENCHEXAMPLE", "bench/secret/not/a/real/key")));
    }

    public Uri Endpoint { get; }

    public static async Task<Dynalite> StartAsync(string root)
    {
        if (!Directory.Exists(Path.Combine(root, "node_modules", "dynalite")))
            throw new InvalidOperationException($"dynalite is not installed: run `npm ci` in {root}");
        var start = new ProcessStartInfo("node", [Path.Combine(root, "tests", "EcsReflex.Aws.Tests", "tools", "dynalite-server.js")])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root, UseShellExecute = false,
        };
        var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var line = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            var err = await node.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5));
            throw new InvalidOperationException($"dynalite did not start: {line} {err}");
        }
        var port = int.Parse(line["listening ".Length..], CultureInfo.InvariantCulture);
        return new Dynalite(node, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>A new empty table, created as the state store's tests create theirs (pk/sk strings).</summary>
    public async Task<string> NewTableAsync(CancellationToken ct)
    {
        var name = $"reflex-bench-{Interlocked.Increment(ref _tables)}-{Guid.NewGuid():N}"[..40];
        await DynamoDbStateStore.CreateTableAsync(_clients.DynamoDb, name, ct);
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        _clients.Dispose();
        if (!_node.HasExited)
        {
            _node.StandardInput.Close();
            try { await _node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)); }
            catch (TimeoutException) { _node.Kill(); }
        }
        _node.Dispose();
    }
}
