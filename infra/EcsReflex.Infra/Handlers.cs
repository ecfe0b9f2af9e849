namespace EcsReflex.Infra;

/// <summary>
/// The host's CloudWatch Embedded Metric Format names the stack alarms on. The host must emit exactly
/// these: namespace <see cref="Namespace"/>, metric <see cref="GiveUps"/> with the one dimension
/// <see cref="HandlerDimension"/> set to the handler name.
/// </summary>
public static class ReflexMetrics
{
    public const string Namespace = "EcsReflex";
    public const string GiveUps = "GiveUps";
    public const string HandlerDimension = "Handler";
}
