using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Lambda.Tests.TestHelpers;

/// <summary>
/// Publishes the Native AOT bootstrap once per test run (and not at all while a publish of the same
/// sources exists under artifacts/lambda/), shared by every test of the collection.
/// </summary>
public sealed class PublishedBootstrapFixture : IAsyncLifetime
{
    public PublishedBootstrap Published { get; private set; } = null!;

    public async Task InitializeAsync() => Published = await BootstrapPublisher.PublishAsync(Repository.Root);

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class PublishedBootstrapCollection : ICollectionFixture<PublishedBootstrapFixture>
{
    public const string Name = "published bootstrap";
}
