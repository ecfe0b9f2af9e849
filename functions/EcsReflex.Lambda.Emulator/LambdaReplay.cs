using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Core.Reflexes;
using EcsReflex.Core.State;
using EcsReflex.Engine;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using EcsReflex.Engine.State;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Lambda.Emulator;

public sealed record LambdaReplayOptions
{
    /// <summary>The bootstrap to run: the published Native AOT binary (or <c>dotnet bootstrap.dll</c>).</summary>
    public required BootstrapCommand Bootstrap { get; init; }
    public required string PolicyPath { get; init; }
    public ClusterSnapshot Snapshot { get; init; } = ClusterSnapshot.Empty;
    /// <summary>Send every input to this handler; by default each goes to its detail type's handler. The events the embedded cluster emits always go to their own.</summary>
    public string? Handler { get; init; }
    public TimeSpan InvocationTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long to wait for an invocation's log lines after its response.</summary>
    public TimeSpan LogTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxTimerFirings { get; init; } = 10_000_000;
    /// <summary>
    /// Run the bootstraps in dry run (<c>REFLEX_DRY_RUN=1</c>): actions are recorded, not sent to the embedded
    /// cluster, which then emits nothing. Off (the default, as <c>reflex replay</c>): actions go to the embedded
    /// cluster served by the emulator (nothing reaches AWS), which emits the task state changes ECS would.
    /// </summary>
    public bool DryRun { get; init; }
    /// <summary>Lossy delivery, as <see cref="ReplayEngine.Undelivered"/>: the embedded cluster sees the input, no bootstrap is invoked with it.</summary>
    public Predicate<EventEnvelope>? Undelivered { get; init; }
    /// <summary>A lossy delay queue, as <see cref="ReplayEngine.LostWork"/>: deferred work it answers true for is not sent to relaunch-due when due.</summary>
    public Func<EventEnvelope, DateTimeOffset, bool>? LostWork { get; init; }
}

/// <summary>The bootstrap could not start, or failed its init: the message says why (the bootstrap's own init error when it sent one).</summary>
public sealed class LambdaReplayException(string message) : Exception(message);

/// <summary>One handler's bootstrap process and its emulator, with its timings.</summary>
public sealed class FunctionInstance : IAsyncDisposable
{
    internal FunctionInstance(string handler, RuntimeApiEmulator emulator, BootstrapProcess process, TimeSpan initDuration)
    {
        Handler = handler;
        Emulator = emulator;
        Process = process;
        InitDuration = initDuration;
    }

    public string Handler { get; }
    public RuntimeApiEmulator Emulator { get; }
    public BootstrapProcess Process { get; }
    /// <summary>From the exec to the first <c>next</c> request.</summary>
    public TimeSpan InitDuration { get; }
    public List<TimeSpan> InvokeDurations { get; } = [];
    /// <summary>Index of the first stdout line not yet read for an invocation.</summary>
    internal int Cursor { get; set; }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}

/// <summary>
/// Replays events through the real bootstrap binary: one process per handler (as deployed), each against
/// its own Runtime API emulator, all sharing one in-memory store and embedded cluster served by the
/// emulators (as deployed functions share one table and one account), in local replay mode. The replay
/// follows <see cref="ReplayEngine"/> step for step: the simulated clock follows the events; the embedded
/// cluster takes in each event before the handler sees it; deferred work and follow-ups the bootstrap puts
/// on the delay queue are delivered to the <c>relaunch-due</c> bootstrap at their due time, as an SQS batch;
/// the task state changes the embedded cluster emits (a task it started is RUNNING, one it stopped is
/// STOPPED) are delivered at their time to the handler of their kind, before a timer due at the same time;
/// after the last input, pending work is fired until a whole round of deferrals finds the cluster unchanged.
/// The records are built from what the bootstrap logged, so they show what CloudWatch Logs would.
/// </summary>
public sealed class LambdaReplay(LambdaReplayOptions options) : ReplayLoop<RawInput, (string Input, QueuedWork Work)>, IAsyncDisposable
{
    private readonly LocalServices _local = new(new InMemoryStateStore(), new EmbeddedCluster(options.Snapshot));
    private readonly Dictionary<string, FunctionInstance> _functions = new(StringComparer.Ordinal);
    private long _messages;

    public LocalServices Local => _local;
    public IReadOnlyDictionary<string, FunctionInstance> Functions => _functions;
    private EmbeddedCluster Cluster => _local.Cluster;

    public IAsyncEnumerable<ReplayRecord> RunAsync(IEnumerable<RawInput> inputs, CancellationToken ct = default) => LoopAsync(inputs, ct);

    protected override EmbeddedCluster SimulatedCluster => Cluster;
    protected override int TimerFiringLimit => options.MaxTimerFirings;
    protected override DateTimeOffset? SortTimeOf(RawInput input) => input.Item.SortTime;
    protected override void OnClockMoved(DateTimeOffset now) => _local.Now = now;

    protected override async ValueTask<ReplayRecord> ProcessAsync(RawInput input, CancellationToken ct)
    {
        var item = input.Item;
        Advance(item.SortTime);
        if (item.Event is not null && !_sweepsStarted)
        {
            // As the in-process replay: the first sweep one interval after the first input; each sweep schedules the next.
            _sweepsStarted = true;
            ScheduleSweep(Clock + Interval);
        }
        if (item.Event is { } seen) Cluster.Observe(seen); // what ECS did happened before the handler hears of it
        if (item.Event is { } lost && options.Undelivered?.Invoke(lost) == true) return ReplayEngine.UndeliveredRecord(item.Input, lost, Clock);
        var handler = options.Handler
                      ?? (item.Event is { } ev ? Handlers.For(ev.Detail) : RawInputs.HandlerForUnparsed(input.Bytes));
        if (handler is null)
        {
            // No function subscribes to it: it reaches none, and the in-process replay's reactor ignores it the same way.
            var e = item.Event!;
            return new ReplayRecord
            {
                Input = item.Input, Trigger = "event", EventId = e.Id, Time = Clock, DetailType = e.DetailType,
                Outcome = Outcome.Ignored, Code = ReasonCodes.EngineNoHandler, Summary = Describe.Event(e), Event = e,
                Reason = $"no handler for {e.DetailType} (source {e.Source})",
            };
        }
        var function = await FunctionAsync(handler, ct);
        var (result, reaction) = await InvokeAsync(function, input.Bytes, ct);
        var record = ToRecord(item.Input, "event", item.Event, result, reaction, item.SortTime);
        Schedule(item.Input);
        return record;
    }

    /// <summary>
    /// An event the embedded cluster emitted, sent to the bootstrap of its handler as EventBridge would route it
    /// (<see cref="LambdaReplayOptions.Handler"/> picks where the given inputs go, not the cluster's own events).
    /// </summary>
    protected override async ValueTask<ReplayRecord> ProcessEmittedAsync(EventEnvelope e, CancellationToken ct)
    {
        var handler = Handlers.For(e.Detail) ?? HandlerNames.TaskRescheduler;
        var function = await FunctionAsync(handler, ct);
        var (result, reaction) = await InvokeAsync(function, EventJson.Write(e), ct);
        var record = ToRecord(ReplayEngine.EmittedInput, "event", e, result, reaction, Clock);
        Schedule(ReplayEngine.EmittedInput);
        return record;
    }

    /// <summary>
    /// The reconciler's sweep, as the in-process replay runs it (<see cref="ReplayEngine"/>): the schedule's
    /// <c>Scheduled Event</c> sent to the <c>reconciler</c> bootstrap, which logs the sweep's line and one per stop it found
    /// and decided. Nothing found and nothing wrong: no record, as in process.
    /// </summary>
    private async ValueTask<ReplayRecord?> SweepAsync(QueuedWork work, CancellationToken ct)
    {
        ScheduleSweep(Clock + Interval);
        _local.ForgetServedFound();
        var function = await FunctionAsync(HandlerNames.Reconciler, ct);
        var sweep = EventParser.Parse(work.Work.EventJson);
        // The re-decisions the sweep will find lost, from the scaling records as the bootstrap reads them (before it rewrites them).
        var rearmed = await LostRedecisionsAsync(sweep, ct);
        var (result, reactions) = await InvokeAllAsync(function, System.Text.Encoding.UTF8.GetBytes(work.Work.EventJson), ct);
        var own = reactions.FirstOrDefault(r => ReactionLines.Str(r, "trigger") == "event");
        var found = reactions.Where(r => ReactionLines.Str(r, "trigger") == FoundTrigger).ToList();
        // What the bootstrap's sweep made itself, as it made it: the placement checks from the policy, the lost re-decisions.
        var made = found.Count == 0 ? [] : Policy.Clusters.SelectMany(c => Reconciler.DriftChecks(c, sweep, Clock)).Concat(rearmed.Select(d => d.Event)).ToList();
        foreach (var f in found)
        {
            // A stop or an instance the emulator served to the sweep; else an event the sweep made.
            var e = ReactionLines.Str(f, "eventId") is { } id ? _local.ServedFound(id) ?? made.FirstOrDefault(d => d.Id == id) : null;
            More.Enqueue(ToRecord(ReplayEngine.SweepInput, ReplayEngine.SweepInput, e, result, f, Clock));
        }
        Schedule(ReplayEngine.SweepInput);
        var record = ToRecord(ReplayEngine.SweepInput, ReplayEngine.SweepInput, sweep, result, own.ValueKind == JsonValueKind.Undefined ? null : own, Clock);
        return found.Count == 0 && record.Outcome == Outcome.Ignored ? null : record;
    }

    private async ValueTask<List<FoundDue>> LostRedecisionsAsync(EventEnvelope sweep, CancellationToken ct)
    {
        var lost = new List<FoundDue>();
        foreach (var cluster in Policy.Clusters)
            lost.AddRange(Reconciler.LostRedecisions(Policy, cluster, await ReconcilerReflex.ScalingRecordsAsync(_local.Store, cluster, ct), sweep, Clock));
        return lost;
    }

    /// <summary>The trigger of the bootstrap's lines for what a sweep found (the host's <c>EventBridgeHandler.FoundTrigger</c>).</summary>
    private const string FoundTrigger = "found";

    private bool _sweepsStarted;
    private ReflexPolicy? _policy;

    /// <summary>The policy the bootstraps run, read once.</summary>
    private ReflexPolicy Policy => _policy ??= PolicyLoader.Load(File.ReadAllBytes(options.PolicyPath));

    /// <summary>The policy's <c>reconcile.intervalSeconds</c>.</summary>
    private TimeSpan Interval => Policy.Reconcile.Interval;

    private void ScheduleSweep(DateTimeOffset due)
    {
        var json = System.Text.Encoding.UTF8.GetString(EventJson.Write(ReplayEngine.SweepEvent(due)));
        Schedule((SweepTimer, new QueuedWork(json, new DeferredWork(json, due, Periodic: true))), due, periodic: true);
    }

    /// <summary>The input of a sweep's timer (the records of the sweep and of deferred work it leaves say <c>sweep</c>).</summary>
    private const string SweepTimer = "sweep (schedule)";

    protected override bool CountsAsLeftOver((string Input, QueuedWork Work) timer) => timer.Input != SweepTimer;

    protected override async ValueTask<ReplayRecord?> FireAsync((string Input, QueuedWork Work) timer, CancellationToken ct)
    {
        if (timer.Input == SweepTimer) return await SweepAsync(timer.Work, ct);
        EventEnvelope? e = null;
        try
        {
            e = EventParser.Parse(timer.Work.Work.EventJson);
        }
        catch (EventRejectedException)
        {
        }
        if (e is not null && options.LostWork?.Invoke(e, Clock) == true) return ReplayEngine.LostWorkRecord(timer.Input, e, Clock);
        var function = await FunctionAsync(HandlerNames.RelaunchDue, ct);
        var id = $"local-{++_messages:D8}";
        var payload = SqsEvents.Batch([(id, timer.Work.Body)], Clock);
        var (result, reaction) = await InvokeAsync(function, payload, ct);
        var record = ToRecord(timer.Input, "timer", e, result, reaction, Clock);
        Schedule(timer.Input);
        return record;
    }

    /// <summary>Deferred work and follow-ups the last invocation queued become timers, ordered as the in-process replay orders them.</summary>
    private void Schedule(string input)
    {
        foreach (var w in _local.DrainDeferred())
            Schedule((input, w), w.Work.DueAt, w.Work.Periodic);
    }

    private async Task<(InvocationResult Result, JsonElement? Reaction)> InvokeAsync(FunctionInstance f, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var (result, reactions) = await InvokeAllAsync(f, payload, ct);
        return (result, reactions.Count == 0 ? null : reactions[0]);
    }

    /// <summary>Invokes the bootstrap and reads every reaction line it logged for the invocation, in order.</summary>
    private async Task<(InvocationResult Result, List<JsonElement> Reactions)> InvokeAllAsync(FunctionInstance f, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var call = f.Emulator.InvokeAsync(payload, new InvokeOptions
        {
            LocalNow = Clock, Timeout = options.InvocationTimeout,
            FunctionArn = $"arn:aws:lambda:local:000000000000:function:reflex-{f.Handler}",
        }, ct);
        if (await Task.WhenAny(call, f.Process.Exited) != call)
            throw new LambdaReplayException($"the {f.Handler} bootstrap ({f.Process.Describe()}) exited during an invocation{Stderr(f.Process)}");
        var result = await call;
        f.InvokeDurations.Add(result.Duration);

        // The bootstrap writes its reaction line(s), then the invocation's EMF line, then posts the result.
        var emf = await f.Process.WaitForLineAsync(l => ReactionLines.IsEmf(l, result.RequestId), f.Cursor, options.LogTimeout, ct);
        var end = emf?.Index ?? f.Process.Lines.Count - 1;
        var reactions = new List<JsonElement>();
        var lines = f.Process.Lines;
        for (var i = f.Cursor; i <= end && i < lines.Count; i++)
            if (ReactionLines.Is(lines[i], result.RequestId, "message", "reaction", out var json))
                reactions.Add(json);
        f.Cursor = end + 1;
        return (result, reactions);
    }

    private ReplayRecord ToRecord(string input, string trigger, EventEnvelope? e, InvocationResult result, JsonElement? reaction, DateTimeOffset? time)
    {
        if (reaction is not { } r)
        {
            var why = result.IsError
                ? $"the bootstrap failed the invocation: {result.Error?.ErrorType}: {result.Error?.ErrorMessage}"
                : "the bootstrap answered without logging a reaction";
            return new ReplayRecord
            {
                Input = input, Trigger = trigger, EventId = e?.Id, Time = Clock, DetailType = e?.DetailType,
                Outcome = Outcome.Failed, Code = ReasonCodes.LambdaNoReaction, Reason = why, Summary = e is null ? null : Describe.Event(e), Event = e,
            };
        }
        return new ReplayRecord
        {
            Input = input,
            Trigger = trigger,
            EventId = ReactionLines.Str(r, "eventId"),
            Time = ReactionLines.Str(r, "eventId") is null && trigger == "event" ? time : Clock,
            DetailType = ReactionLines.Str(r, "detailType"),
            Handler = ReactionLines.Str(r, "decidedBy"),
            Outcome = ReactionLines.ReadOutcome(ReactionLines.Str(r, "outcome")),
            Code = ReactionLines.Str(r, "code") ?? "",
            Reason = ReactionLines.Str(r, "reason") ?? "",
            Actions = ReactionLines.ReadActions(r),
            DueAt = ReactionLines.Time(r, "dueAt"),
            RejectionCode = ReactionLines.Str(r, "rejection"),
            Summary = e is null || ReactionLines.Str(r, "eventId") is null ? null : Describe.Event(e),
            Event = ReactionLines.Str(r, "eventId") is null ? null : e,
        };
    }

    /// <summary>The handler's bootstrap, started (and its init awaited) on first use.</summary>
    public async Task<FunctionInstance> FunctionAsync(string handler, CancellationToken ct)
    {
        if (_functions.TryGetValue(handler, out var existing)) return existing;
        var emulator = await RuntimeApiEmulator.StartAsync(_local, ct);
        BootstrapProcess process;
        try
        {
            process = BootstrapProcess.Start(options.Bootstrap, new Dictionary<string, string?>
            {
                ["AWS_LAMBDA_RUNTIME_API"] = emulator.RuntimeApi,
                ["_HANDLER"] = handler,
                ["REFLEX_POLICY"] = Path.GetFullPath(options.PolicyPath),
                ["REFLEX_LOCAL_REPLAY"] = "1",
                ["REFLEX_DRY_RUN"] = options.DryRun ? "1" : "0",
                ["AWS_LAMBDA_FUNCTION_NAME"] = $"reflex-{handler}",
            });
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            await emulator.DisposeAsync();
            throw new LambdaReplayException($"cannot start the bootstrap {options.Bootstrap}: {ex.Message}");
        }

        var timeout = Task.Delay(options.StartTimeout, ct);
        await Task.WhenAny(emulator.FirstNext, emulator.InitError, process.Exited, timeout);
        string? failure = null;
        if (emulator.InitError.IsCompleted)
        {
            var err = await emulator.InitError;
            failure = $"the {handler} bootstrap failed its init: {err.ErrorType}: {err.ErrorMessage}";
        }
        else if (!emulator.FirstNext.IsCompleted)
            failure = process.Exited.IsCompleted
                ? $"the {handler} bootstrap ({process.Describe()}) exited before asking for an event{Stderr(process)}"
                : $"the {handler} bootstrap did not ask for an event within {options.StartTimeout.TotalSeconds} s{Stderr(process)}";
        if (failure is not null)
        {
            await process.DisposeAsync();
            await emulator.DisposeAsync();
            throw new LambdaReplayException(failure);
        }
        var f = new FunctionInstance(handler, emulator, process, Stopwatch.GetElapsedTime(process.StartedAt, await emulator.FirstNext));
        _functions[handler] = f;
        return f;
    }

    private static string Stderr(BootstrapProcess p)
    {
        var errors = p.Errors;
        return errors.Count == 0 ? "" : ": " + string.Join(" | ", errors.TakeLast(10));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var f in _functions.Values) await f.DisposeAsync();
        _functions.Clear();
    }
}
