using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.ConsoleArguments;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace EcsReflex.Bench.Throughput;

/// <summary>
/// <c>bdn [BenchmarkDotNet arguments]</c>: the BenchmarkDotNet command line (<c>--filter</c>, <c>--list</c>,
/// exporters...) over the throughput benchmarks; <c>--inProcess</c> runs each class's own job in this process. It converts the benchmarks itself
/// rather than through <see cref="BenchmarkSwitcher"/> for one reason: a stream benchmark's
/// <c>OperationsPerInvoke</c> is the stream's event count, which is chosen at run time
/// (<c>REFLEX_BENCH_EVENTS</c>) while the attribute wants a constant.
/// </summary>
public static class BdnRunner
{
    public static readonly Type[] Types = [typeof(ParseDecideBenchmarks), typeof(StreamBenchmarks)];

    public static IConfig Config { get; } = DefaultConfig.Instance
        .AddColumn(new EventsPerSecondColumn(), new SpeedVsBaselineColumn());

    public static int Run(string[] args)
    {
        if (args.Any(a => a is "--list" or "--help" or "-h" or "-?" or "--version" or "--info"))
        {
            BenchmarkSwitcher.FromTypes(Types).Run(args, Config);
            return 0;
        }
        // BenchmarkDotNet's --inProcess adds a default job beside each class's own (a 1,000,000-event pass
        // under the default throughput strategy would run for hours); here it runs the classes' own jobs in process.
        var inProcess = args.Contains("--inProcess");
        var (ok, parsed, _) = ConfigParser.Parse([.. args.Where(a => a != "--inProcess")], ConsoleLogger.Default, Config);
        if (!ok) return 2;
        var config = ManualConfig.Union(Config, parsed); // as BenchmarkSwitcher does: the defaults, then the command line
        var runs = Types
            .Select(t => Adjust(BenchmarkConverter.TypeToBenchmarks(t, config), inProcess))
            .Where(r => r.BenchmarksCases.Length > 0)
            .ToArray();
        if (runs.Length == 0)
        {
            Console.Error.WriteLine("no benchmark matches the filter; list them with: bdn --list flat");
            return 2;
        }
        var summaries = BenchmarkRunner.Run(runs);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    /// <summary>
    /// Sets the stream benchmarks' operations per invocation to the stream's event count, and the in-process
    /// toolchain when asked.
    /// </summary>
    private static BenchmarkRunInfo Adjust(BenchmarkRunInfo run, bool inProcess)
    {
        var stream = run.Type == typeof(StreamBenchmarks);
        if (!stream && !inProcess) return run;
        var cases = run.BenchmarksCases.Select(c =>
        {
            var d = c.Descriptor;
            var job = inProcess ? c.Job.WithToolchain(InProcessEmitToolchain.Instance) : c.Job;
            if (!stream) return BenchmarkCase.Create(d, job, c.Parameters, c.Config);
            var description = d.WorkloadMethodDisplayInfo == d.WorkloadMethod.Name ? null : d.WorkloadMethodDisplayInfo;
            var perEvent = new Descriptor(d.Type, d.WorkloadMethod, d.GlobalSetupMethod, d.GlobalCleanupMethod,
                d.IterationSetupMethod, d.IterationCleanupMethod, description, d.AdditionalLogic, d.Baseline,
                d.Categories, StreamBenchmarks.EventCount, d.MethodIndex);
            return BenchmarkCase.Create(perEvent, job, c.Parameters, c.Config);
        }).ToArray();
        return new BenchmarkRunInfo(cases, run.Type, run.Config);
    }
}

/// <summary>Events per second: 10⁹ / Mean (one operation is one event in every benchmark here).</summary>
public sealed class EventsPerSecondColumn : IColumn
{
    public string Id => nameof(EventsPerSecondColumn);
    public string ColumnName => "Events/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Statistics;
    public int PriorityInCategory => 10;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Events per second on one thread: 1e9 / Mean (an operation is one event)";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        summary[benchmarkCase]?.ResultStatistics?.Mean is > 0 and var ns ? (1e9 / ns).ToString("N0", style.CultureInfo) : "?";
}

/// <summary>
/// Speed as a fraction of the baseline's (baseline Mean / Mean): for the stream, "replay at N% of the raw
/// pass" (issue 8's goal: at least 40%). BenchmarkDotNet's Ratio is the inverse (time over the baseline's time).
/// </summary>
public sealed class SpeedVsBaselineColumn : IColumn
{
    public string Id => nameof(SpeedVsBaselineColumn);
    public string ColumnName => "Speed vs baseline";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Baseline;
    public int PriorityInCategory => 10;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Baseline Mean / Mean, as a percentage (the throughput of this row relative to the baseline's)";
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => c.Descriptor.Baseline);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var baseline = summary.GetBaseline(summary.GetLogicalGroupKey(benchmarkCase));
        if (baseline is null) return "?";
        var mine = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var theirs = summary[baseline]?.ResultStatistics?.Mean;
        return mine is > 0 && theirs is > 0 ? (theirs.Value / mine.Value).ToString("P1", style.CultureInfo) : "?";
    }
}
