using EcsReflex.Core.Events;

namespace EcsReflex.Core.Decisions;

/// <summary>
/// Every code a reason carries beside its sentence, one constant per code: dotted, lowercase,
/// <c>&lt;handler&gt;.&lt;outcome-ish&gt;.&lt;why&gt;</c>. The codes are stable (they appear in the replay's JSON lines and the
/// Lambda reaction log line), the sentences are not: read the code, never the sentence. docs/codes.md lists them all
/// (a test holds the two together), so a new code is added here and there.
/// </summary>
public static class ReasonCodes
{
    // ---------------------------------------------------------------- task rescheduler
    public const string ReschedulerNotStopped = "rescheduler.ignored.not-stopped";
    public const string ReschedulerClusterNotInPolicy = "rescheduler.ignored.cluster-not-in-policy";
    public const string ReschedulerServiceTask = "rescheduler.ignored.service-task";
    public const string ReschedulerNoRule = "rescheduler.ignored.no-rule";
    public const string ReschedulerGivenUp = "rescheduler.ignored.given-up";
    public const string ReschedulerNotAFailure = "rescheduler.ignored.not-a-failure";
    public const string ReschedulerSuccess = "rescheduler.ignored.success";
    public const string ReschedulerBeingMoved = "rescheduler.ignored.being-moved";
    public const string ReschedulerCannotRelaunch = "rescheduler.rejected.cannot-relaunch";
    public const string ReschedulerBackoff = "rescheduler.deferred.backoff";
    public const string ReschedulerRelaunch = "rescheduler.relaunch";
    public const string ReschedulerGaveUp = "rescheduler.gave-up";

    // ---------------------------------------------------------------- service scaler
    public const string ScalerNoService = "scaler.ignored.no-service";
    public const string ScalerAlreadyHandled = "scaler.ignored.already-handled";
    public const string ScalerOutOfOrder = "scaler.ignored.out-of-order";
    public const string ScalerNotInAlarm = "scaler.ignored.not-in-alarm";
    public const string ScalerActionsSuppressed = "scaler.ignored.actions-suppressed";
    public const string ScalerPaused = "scaler.ignored.paused";
    public const string ScalerServiceNotFound = "scaler.ignored.service-not-found";
    public const string ScalerServiceNotActive = "scaler.ignored.service-not-active";
    public const string ScalerAasOwned = "scaler.ignored.aas-owned";
    public const string ScalerBoundsDisjoint = "scaler.ignored.bounds-disjoint";
    public const string ScalerNoStep = "scaler.ignored.no-step";
    public const string ScalerOwnChangePending = "scaler.held.own-change-pending";
    public const string ScalerSomeoneElseScaling = "scaler.held.someone-else-scaling";
    public const string ScalerCooldown = "scaler.held.cooldown";
    public const string ScalerArbiter = "scaler.held.arbiter";
    public const string ScalerStabilisation = "scaler.held.stabilisation";
    public const string ScalerBound = "scaler.held.bound";
    public const string ScalerAtCount = "scaler.ignored.at-count";
    public const string ScalerScaleOut = "scaler.scale-out";
    public const string ScalerScaleIn = "scaler.scale-in";
    public const string ScalerLostRace = "scaler.failed.lost-race";
    public const string ScalerSustainedEnded = "scaler.sustained.ended";
    public const string ScalerSustainedStale = "scaler.sustained.stale";

    // The reconciler's sweep.
    public const string ReconcilerSwept = "reconciler.swept";
    public const string ReconcilerReadFailed = "reconciler.read-failed";

    // ---------------------------------------------------------------- placement guard
    public const string GuardClusterNotInPolicy = "guard.ignored.cluster-not-in-policy";
    public const string GuardStale = "guard.ignored.stale";
    public const string GuardCheckCancelled = "guard.ignored.check-cancelled";
    public const string GuardCheckSuperseded = "guard.ignored.check-superseded";
    public const string GuardAgentGrace = "guard.deferred.agent-grace";
    public const string GuardDrainReplace = "guard.drain.replace";
    public const string GuardDrainStopOriginal = "guard.drain.stop-original";
    public const string GuardDrainCannotMove = "guard.drain.cannot-move";
    public const string GuardDrainNothingToMove = "guard.drain.nothing-to-move";
    public const string GuardDisconnectReplace = "guard.disconnect.replace";
    public const string GuardDisconnectCannotMove = "guard.disconnect.cannot-move";
    public const string GuardDisconnectNothingToMove = "guard.disconnect.nothing-to-move";
    public const string GuardReconnectStopOriginal = "guard.reconnect.stop-original";
    public const string GuardReconnectNothingToMove = "guard.reconnect.nothing-to-move";
    public const string GuardNotWatched = "guard.ignored.not-watched";
    public const string GuardNoMove = "guard.ignored.no-move";
    public const string GuardOriginalOfMove = "guard.ignored.original-of-move";
    public const string GuardOlderThanReplacement = "guard.ignored.older-than-replacement";
    public const string GuardOriginalAlreadyStopped = "guard.ignored.original-already-stopped";
    public const string GuardReplacementLeaveOriginal = "guard.replacement.leave-original";
    public const string GuardReplacementStopOriginal = "guard.replacement.stop-original";
    public const string GuardNoServiceNamed = "guard.ignored.no-service-named";
    public const string GuardServiceNotInPolicy = "guard.ignored.service-not-in-policy";
    public const string GuardNoPlacementPolicy = "guard.ignored.no-placement-policy";
    public const string GuardNotADeploymentCheck = "guard.ignored.not-a-deployment-check";
    public const string GuardNotEnforced = "guard.ignored.not-enforced";
    public const string GuardServiceNotFound = "guard.ignored.service-not-found";
    public const string GuardFargate = "guard.ignored.fargate";
    public const string GuardPlacementMatches = "guard.ignored.placement-matches";
    public const string GuardDriftRestore = "guard.drift.restore";
    public const string GuardResourceShortage = "guard.ignored.resource-shortage";
    public const string GuardNotAConstraintFailure = "guard.ignored.not-a-constraint-failure";
    public const string GuardNoFallback = "guard.ignored.no-fallback";
    public const string GuardFallbackInEffect = "guard.ignored.fallback-in-effect";
    public const string GuardFallbackApply = "guard.fallback.apply";
    public const string GuardNoFallbackInEffect = "guard.ignored.no-fallback-in-effect";
    public const string GuardRestoreNotYet = "guard.ignored.restore-not-yet";
    public const string GuardFallbackRestore = "guard.fallback.restore";
    public const string GuardOtherServiceAction = "guard.ignored.other-service-action";
    public const string GuardUnhandledEvent = "guard.ignored.unhandled-event";

    // ---------------------------------------------------------------- the engine and the actuator
    public const string EngineNoHandler = "engine.ignored.no-handler";
    public const string EngineDuplicate = "engine.ignored.duplicate";
    public const string EngineDuplicateChange = "engine.ignored.duplicate-change";
    public const string EngineDuplicateDelivery = "engine.ignored.duplicate-delivery";
    public const string EngineClaimInProgress = "engine.failed.claim-in-progress";
    public const string EngineClaimsLost = "engine.failed.claims-lost";
    public const string EngineReplayStalled = "engine.deferred.replay-stalled";
    public const string EngineReplayUntil = "engine.ignored.replay-until";
    public const string EngineUndelivered = "engine.ignored.undelivered";
    public const string ActuatorRateLimit = "actuator.deferred.rate-limit";
    public const string ActuatorCapacity = "actuator.deferred.capacity";
    public const string ActuatorActionFailed = "actuator.failed.action";

    // ---------------------------------------------------------------- the Lambda host
    public const string LambdaRequeued = "lambda.deferred.requeued";
    public const string LambdaNotDone = "lambda.failed.not-done";
    public const string LambdaNoReaction = "lambda.failed.no-reaction";

    // ---------------------------------------------------------------- inputs rejected before any decision
    public const string RejectInvalidJson = "reject.invalid-json";
    public const string RejectNotAnEvent = "reject.not-an-event";
    public const string RejectMissingField = "reject.missing-field";
    public const string RejectWrongType = "reject.wrong-type";
    public const string RejectInvalidValue = "reject.invalid-value";
    public const string RejectMisrouted = "reject.misrouted";

    /// <summary>The code of an input the parser rejected: <c>reject.</c> and the rejection's own kind (<see cref="EventRejectedException.Code"/>).</summary>
    public static string Reject(RejectionKind kind) => kind switch
    {
        RejectionKind.InvalidJson => RejectInvalidJson,
        RejectionKind.NotAnEvent => RejectNotAnEvent,
        RejectionKind.MissingField => RejectMissingField,
        RejectionKind.WrongType => RejectWrongType,
        _ => RejectInvalidValue,
    };

    /// <summary>The code of a rejection by its kebab-case name (<c>invalid-json</c>, <c>misrouted</c>…).</summary>
    public static string Reject(string rejection) => rejection switch
    {
        "invalid-json" => RejectInvalidJson,
        "not-an-event" => RejectNotAnEvent,
        "missing-field" => RejectMissingField,
        "wrong-type" => RejectWrongType,
        "misrouted" => RejectMisrouted,
        _ => RejectInvalidValue,
    };
}
