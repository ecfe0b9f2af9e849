using EcsReflex.Core.Policy;
using EcsReflex.Lambda.Configuration;
using EcsReflex.Lambda.Handlers;
using EcsReflex.Lambda.Local;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Bootstrap;

/// <summary>
/// Init: the handler from <c>_HANDLER</c>, the policy, the ports. Every problem is collected and reported
/// at once in one init error whose message says what to fix.
/// </summary>
public static class HostInit
{
    public const string UnknownHandler = "Reflex.UnknownHandler";
    public const string InvalidPolicy = "Reflex.InvalidPolicy";
    public const string InvalidConfiguration = "Reflex.InvalidConfiguration";

    public static IInvocationHandler Create(IEnvironment env, string baseDirectory, IAwsAdapters aws, ILineWriter output, TimeProvider time)
    {
        var configProblems = new List<string>();
        var settings = LambdaSettings.Read(env, baseDirectory, configProblems);
        var log = new JsonLog(output, time, settings.Handler);

        var handlerProblems = new List<string>();
        if (settings.Handler is null)
            handlerProblems.Add($"{EnvVars.Handler} is not set: set it to one of {string.Join(", ", HandlerNames.All)}");
        else if (!HandlerNames.All.Contains(settings.Handler))
            handlerProblems.Add($"{EnvVars.Handler}=\"{settings.Handler}\" is not a handler: set it to one of {string.Join(", ", HandlerNames.All)}");

        var policyProblems = new List<string>();
        var policy = LoadPolicy(settings.PolicyPath, policyProblems);

        HostServices? services = null;
        if (policy is not null && handlerProblems.Count == 0 && configProblems.Count == 0)
        {
            // Local replay's ports are all the emulator's (Local/LocalReplayComposition.cs); AWS wiring is Composition.cs's.
            services = settings.LocalReplay
                ? LocalReplayComposition.Compose(settings, policy, log, configProblems)
                : Composition.Compose(settings, policy, aws, log, time, configProblems);
            // A handler that decides from what it observes does not start without an observer: it would decide on guesses.
            var cause = aws.Name;
            if (services?.Observer is UnknownClusterObserver && UnknownClusterObserver.ProblemFor(settings.Handler!, cause) is { } blind)
            {
                configProblems.Add(blind);
                services = null;
            }
        }

        var problems = handlerProblems.Concat(policyProblems).Concat(configProblems).ToList();
        if (problems.Count > 0)
        {
            var type = handlerProblems.Count > 0 ? UnknownHandler : policyProblems.Count > 0 ? InvalidPolicy : InvalidConfiguration;
            throw new InitException(type, problems);
        }

        return settings.Handler == HandlerNames.RelaunchDue
            ? new RelaunchDueHandler(services!, log, time)
            : new EventBridgeHandler(settings.Handler!, services!, log, time);
    }

    public static ReflexPolicy? LoadPolicy(string path, List<string> problems)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cannot read the policy {path} ({ex.Message}): set {EnvVars.Policy} to the policy file, or deploy {LambdaSettings.DefaultPolicyFile} beside the bootstrap");
            return null;
        }
        var (policy, errors) = PolicyLoader.TryLoad(bytes);
        foreach (var e in errors) problems.Add(e.Syntax is { } syntax ? $"policy {syntax.At(path)}" : $"policy {path}: {e}");
        return errors.Count > 0 ? null : policy;
    }
}
