using CsCheck;
using EcsReflex.Engine.State;

namespace EcsReflex.Engine.Tests;

/// <summary>The store's and the embedded cluster's expiry queue gives what a priority queue gives, in every arrival order.</summary>
public class DueQueueTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Random steps: the clock moves forward; items arrive at "now + one of a few retentions" (the sorted sequences
    /// the lanes are for) or at a random time (which can land before every lane); items due by now are taken off.
    /// Each step's due items must be exactly those a PriorityQueue gives, in time order.
    /// </summary>
    [Fact]
    public void DueItems_AreThoseOfAPriorityQueue_InTimeOrder_WhateverTheArrivalOrder()
    {
        var steps = Gen.Select(Gen.Int[0, 3600], Gen.Int[0, 12], Gen.Int[0, 1_000_000]).Array[1, 400];
        var retentions = new[] { 3600, 86_400, 90_000, 2_592_000, 60, 7 }.Select(s => TimeSpan.FromSeconds(s)).ToArray();
        steps.Sample(plan =>
        {
            var due = new DueQueue<int>();
            var reference = new PriorityQueue<int, DateTimeOffset>();
            var now = T0;
            var next = 0;
            foreach (var (advance, kind, random) in plan)
            {
                now += TimeSpan.FromSeconds(advance);
                var at = kind < retentions.Length ? now + retentions[kind] : T0 + TimeSpan.FromSeconds(random * 7L);
                due.Enqueue(next, at);
                reference.Enqueue(next, at);
                next++;
                var got = new List<(int, DateTimeOffset)>();
                while (due.TryDequeueDue(now, out var item, out var when)) got.Add((item, when));
                var expected = new List<(int, DateTimeOffset)>();
                while (reference.TryPeek(out var item, out var when) && when <= now) expected.Add((reference.Dequeue(), when));
                // Ties may come in another order: compare the times in order, and the items as sets.
                Assert.Equal(expected.Select(e => e.Item2), got.Select(g => g.Item2));
                Assert.Equal(expected.Select(e => e.Item1).Order(), got.Select(g => g.Item1).Order());
                Assert.Equal(reference.Count, due.Count);
            }
        }, iter: 300);
    }

    [Fact]
    public void TryPeek_GivesTheEarliest_AndNothingIsDueBeforeItsTime()
    {
        var q = new DueQueue<string>();
        Assert.False(q.TryPeek(out _, out _));
        q.Enqueue("late", T0.AddDays(30));
        q.Enqueue("soon", T0.AddHours(1));
        q.Enqueue("sooner", T0.AddMinutes(5));
        Assert.True(q.TryPeek(out var first, out var at));
        Assert.Equal(("sooner", T0.AddMinutes(5)), (first, at));
        Assert.False(q.TryDequeueDue(T0.AddMinutes(4), out _, out _));
        Assert.True(q.TryDequeueDue(T0.AddHours(2), out var a, out _));
        Assert.True(q.TryDequeueDue(T0.AddHours(2), out var b, out _));
        Assert.False(q.TryDequeueDue(T0.AddHours(2), out _, out _));
        Assert.Equal(["sooner", "soon"], new[] { a, b });
        Assert.Equal(1, q.Count);
    }
}
