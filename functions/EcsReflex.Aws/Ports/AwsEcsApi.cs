using EcsReflex.Aws.Ecs;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.State;
using Wire = EcsReflex.Aws.Ecs;

namespace EcsReflex.Aws.Ports;

/// <summary>
/// The core's <see cref="IEcsApi"/> on real ECS: the actuator's three writes, sent exactly as the core built
/// them. A RunTask answer's <c>failures</c> are returned for the actuator to classify (capacity or not), never
/// treated as success; transport failures surface as <see cref="Http.AwsServiceException"/>.
/// </summary>
public sealed class AwsEcsApi(EcsClient ecs) : IEcsApi
{
    public async ValueTask<Core.State.RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct)
    {
        var r = await ecs.RunTaskAsync(request, ct).ConfigureAwait(false);
        return new Core.State.RunTaskResponse(
            r.Tasks.Select(t => t.TaskArn).ToList(),
            r.Failures.Select(f => new RunTaskFailure(f.Arn, f.Reason, f.Detail)).ToList());
    }

    public async ValueTask<Core.State.StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct)
    {
        var r = await ecs.StopTaskAsync(request, ct).ConfigureAwait(false);
        return new Core.State.StopTaskResponse(r.Task?.TaskArn, r.Task?.LastStatus);
    }

    public async ValueTask<Core.State.UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct)
    {
        Wire.UpdateServiceResponse r = await ecs.UpdateServiceAsync(request, ct).ConfigureAwait(false);
        return new Core.State.UpdateServiceResponse(r.Service?.ServiceArn, r.Service?.DesiredCount);
    }
}
