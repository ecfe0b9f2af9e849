using Amazon.CDK;
using EcsReflex.Infra;

// The CDK app (cdk.json runs it: `npx cdk synth`, `npx cdk deploy`). Context keys: see ReflexSettings.Keys
// and docs/deploy.md.
var app = new App();
// The asset folder (bootstrap + policy) is prepared here; synth copies it into cdk.out, then it goes.
var staging = Path.Combine(Path.GetTempPath(), $"ecsreflex-cdk-{System.Environment.ProcessId}");
try
{
    ReflexApp.Compose(app, Directory.GetCurrentDirectory(), staging);
    app.Synth();
    return 0;
}
catch (Exception ex) when (ex is SettingsException or FunctionAssetException)
{
    Console.Error.WriteLine($"EcsReflex synth failed: {ex.Message}");
    return 1;
}
finally
{
    if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
}
