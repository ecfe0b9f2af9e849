using System.Diagnostics;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.DynamoDb;

namespace EcsReflex.Aws.Tests.Support;

/// <summary>
/// dynalite (the npm implementation of the DynamoDB API) on a free loopback port, for the life of a test class:
/// the project's DynamoDB client (<see cref="Client"/>, what the state store uses) talks to it over the real protocol, and
/// the official SDK client (<see cref="Sdk"/>) reads and writes the same tables independently, so that a test can check what
/// the project's client wrote the way another DynamoDB tool sees it. Needs Node.js and `npm ci` at the repository root.
/// </summary>
public sealed class DynaliteFixture : IAsyncLifetime
{
    private Process? _node;
    private int _tables;

    public Uri Endpoint { get; private set; } = null!;
    private AwsClients? _clients;

    /// <summary>The project's client, signed and retried like in Lambda (fast retries).</summary>
    public DynamoDbClient Client { get; private set; } = null!;

    /// <summary>The official SDK client (tests only: the project no longer ships it).</summary>
    public IAmazonDynamoDB Sdk { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        RepoPaths.NodeModule("dynalite");
        var script = Repository.Path("tests", "EcsReflex.Aws.Tests", "tools", "dynalite-server.js");
        var start = new ProcessStartInfo("node", [script])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = Repository.Root, UseShellExecute = false,
        };
        try
        {
            _node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot run `node` ({ex.Message}): install Node.js 18 or later and run `npm ci` in {Repository.Root}", ex);
        }
        var line = await _node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            var err = await _node.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5));
            throw new InvalidOperationException($"dynalite did not start: {line} {err}");
        }
        Endpoint = new Uri($"http://127.0.0.1:{int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture)}/");
        _clients = AwsClients.Create(
            new DictionaryEnvironment(new Dictionary<string, string?> { ["AWS_ENDPOINT_URL_DYNAMODB"] = Endpoint.ToString(), ["AWS_REGION"] = "us-east-1" }),
            credentials: new StaticCredentialsSource(new BasicAWSCredentials("AKIDEXAMPLE", "secret")), retry: StubClients.FastRetry);
        Client = _clients.DynamoDb;
        Sdk = new AmazonDynamoDBClient(new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
            new AmazonDynamoDBConfig { ServiceURL = Endpoint.ToString(), AuthenticationRegion = "us-east-1", MaxErrorRetry = 2 });
    }

    /// <summary>A new empty table (created like the CDK stack's: pk/sk strings).</summary>
    public async Task<string> NewTableAsync()
    {
        var name = $"reflex-test-{Interlocked.Increment(ref _tables)}-{Guid.NewGuid():N}"[..40];
        await EcsReflex.Aws.State.DynamoDbStateStore.CreateTableAsync(Client, name, CancellationToken.None);
        return name;
    }

    public Task DisposeAsync()
    {
        _clients?.Dispose();
        Sdk?.Dispose();
        if (_node is { HasExited: false })
        {
            try
            {
                _node.StandardInput.Close();
                if (!_node.WaitForExit(5000)) _node.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
        _node?.Dispose();
        return Task.CompletedTask;
    }
}
