namespace EcsReflex.Engine.Local;

/// <summary>
/// The one member of the engine's <c>LocalProtocol</c> that the bootstrap's <c>RuntimeApiClient</c> reads (the emulator's
/// simulated-time header on <c>next</c>), so that the client's own source compiles here without the engine and the
/// policy types it brings. Same value as the engine's (the emulator never sends it to this loop).
/// </summary>
internal static class LocalProtocol
{
    public const string NowHeader = "Reflex-Local-Now";
}
