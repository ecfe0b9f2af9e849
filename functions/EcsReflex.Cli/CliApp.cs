using System.CommandLine;
using System.CommandLine.Parsing;
using EcsReflex.Aws.Config;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Cli;

/// <summary>
/// The <c>reflex</c> command line. Exit codes: 0 when every input was processed (rejected inputs
/// included), 2 for a usage problem (an unknown option, a path that cannot be opened or holds no event,
/// an output folder that cannot be written, an invalid policy or snapshot), 3 when <c>replay --fail-on</c>
/// names an outcome that a record has, 1 for an internal error.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int UsageError = 2;
    public const int FailOnMatched = 3;

    public const string DefaultPolicy = "reflex.policy.json";
    public const string DefaultSnapshot = "events/cluster.snapshot.json";
    public const string DefaultEvents = "events";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Stream rawStdout, ITerminal? terminal = null, IEnvironment? environment = null)
    {
        terminal ??= RedirectedTerminal.Instance;
        var policyOption = new Option<string>("--policy") { Description = "The policy file.", DefaultValueFactory = _ => DefaultPolicy };

        var validate = new Command("validate", "Load and validate the policy; print every problem with its path. Exit 0 when valid, 2 when not.");
        validate.Options.Add(policyOption);
        validate.SetAction((parse, ct) => Task.FromResult(Validate(parse.GetValue(policyOption)!, stdout, stderr)));

        var snapshotOption = new Option<string?>("--snapshot") { Description = $"The cluster snapshot the embedded cluster starts from: a JSON file (one AWS CLI output, or an array of them) or a folder of *.json outputs (default {DefaultSnapshot} when it exists)." };
        var formatOption = new Option<string>("--format") { Description = "table (default) or jsonl: one JSON object per processed event or fired timer.", DefaultValueFactory = _ => "table" };
        formatOption.AcceptOnlyFromAmong("table", "jsonl");
        var pathsArgument = new Argument<string[]>("PATH") { Description = $"Event files (.json: one event; .jsonl or .ndjson: one per line; each may be .gz) or folders. Default: {DefaultEvents}/.", Arity = ArgumentArity.ZeroOrMore };
        var failOnOption = new Option<string?>("--fail-on") { Description = $"Exit {FailOnMatched} when any record has one of these outcomes, a comma-separated list of {string.Join(", ", Outcomes.Select(o => o.Name()))} (for CI: --fail-on rejected,failed)." };

        var untilOption = new Option<string?>("--until") { Description = "Periodic work (re-decisions of sustained alarms) stops at this time (ISO 8601, e.g. 2026-03-03T02:00:00Z; no offset means UTC). Default: the last input's time. One-shot deferred work due later still runs." };
        var replay = new Command("replay", "Replay events on the embedded cluster: no AWS account needed.");
        replay.Options.Add(policyOption);
        replay.Options.Add(untilOption);
        replay.Options.Add(snapshotOption);
        replay.Options.Add(formatOption);
        replay.Options.Add(failOnOption);
        replay.Arguments.Add(pathsArgument);
        AwsReplay.AddTo(replay);
        var lambda = CliLambda.AddOptions(replay);
        replay.SetAction((parse, ct) =>
        {
            if (!TryParseFailOn(parse.GetValue(failOnOption), stderr, out var failOn)) return Task.FromResult(UsageError);
            DateTimeOffset? until = null;
            if (parse.GetValue(untilOption) is { } untilText)
            {
                if (!ReportCommand.TryParseTime(untilText, out var u))
                {
                    stderr.WriteLine($"--until: expected an ISO 8601 time such as 2026-03-03T02:00:00Z, got \"{untilText}\"");
                    return Task.FromResult(UsageError);
                }
                until = u;
            }
            var options = new ReplayOptions(parse.GetValue(policyOption)!, parse.GetValue(snapshotOption), parse.GetValue(formatOption)!, parse.GetValue(pathsArgument) ?? [], failOn, until);
            var aws = AwsReplay.Read(parse);
            var wantsAws = aws is not { Aws: false, Execute: false, Region: null, Profile: null };
            if (wantsAws && lambda.Requested(parse))
            {
                stderr.WriteLine("reflex replay: --aws and --lambda cannot be combined: --lambda runs the real binary on the embedded cluster, --aws observes a real account");
                return Task.FromResult(UsageError);
            }
            if (lambda.Requested(parse)) return lambda.ReplayAsync(parse, options, stdout, stderr, rawStdout, ct);
            return wantsAws
                ? AwsReplay.RunAsync(options, aws, environment ?? new ProcessEnvironment(), stdout, stderr, rawStdout, ct)
                : Replay(options, stdout, stderr, rawStdout, ct, terminal);
        });

        var root = new RootCommand("EcsReflex: automatic reactions to Amazon ECS cluster events.");
        root.Subcommands.Add(validate);
        root.Subcommands.Add(replay);
        root.Subcommands.Add(ReportCommand.Create(policyOption, snapshotOption, pathsArgument, stdout, stderr, terminal));

        var parsed = root.Parse(args);
        if (UnknownOption(parsed, root) is { } unknown)
        {
            await stderr.WriteLineAsync(unknown);
            return UsageError;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await stderr.WriteLineAsync($"reflex: internal error: {ex}");
            return InternalError;
        }
    }

    public static int Validate(string policyPath, TextWriter stdout, TextWriter stderr)
    {
        if (!TryLoadPolicy(policyPath, stderr, out _)) return UsageError;
        stdout.WriteLine($"{policyPath}: valid");
        return Ok;
    }

    public static bool TryLoadPolicy(string path, TextWriter stderr, out ReflexPolicy policy)
    {
        policy = null!;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{path}: cannot read the policy: {ex.Message}");
            return false;
        }
        var (p, errors) = PolicyLoader.TryLoad(bytes);
        if (errors is [{ Syntax: { } syntax }])
        {
            stderr.WriteLine(syntax.At(path));
            return false;
        }
        if (errors.Count > 0)
        {
            stderr.WriteLine($"{path}: the policy is invalid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):");
            foreach (var e in errors) stderr.WriteLine($"  {e}");
            return false;
        }
        policy = p!;
        return true;
    }

    /// <param name="FailOn">The outcomes that make the replay exit <see cref="FailOnMatched"/> (<c>--fail-on</c>); none: never.</param>
    /// <param name="Until">Where periodic work stops (<c>--until</c>); null: the last input's time.</param>
    public sealed record ReplayOptions(string Policy, string? Snapshot, string Format, string[] Paths, IReadOnlySet<Outcome>? FailOn = null, DateTimeOffset? Until = null)
    {
        /// <summary>The exit code of a replay that printed <paramref name="summary"/>, saying on <paramref name="stderr"/> why when it is not 0.</summary>
        public int ExitCode(ReplaySummary summary, TextWriter stderr)
        {
            if (FailOn is not { Count: > 0 }) return Ok;
            var hit = Outcomes.Where(o => FailOn.Contains(o) && summary.Count(o) > 0).ToList();
            if (hit.Count == 0) return Ok;
            stderr.WriteLine($"reflex replay: --fail-on {string.Join(",", Outcomes.Where(FailOn.Contains).Select(o => o.Name()))}: "
                + string.Join(", ", hit.Select(o => $"{summary.Count(o)} record{(summary.Count(o) == 1 ? "" : "s")} {o.Name()}")) + $"; exit {FailOnMatched}");
            return FailOnMatched;
        }
    }

    private static readonly Outcome[] Outcomes = Enum.GetValues<Outcome>();

    /// <summary>Reads <c>--fail-on</c>: a comma-separated list of outcome names; every unknown name is reported with the allowed ones.</summary>
    public static bool TryParseFailOn(string? value, TextWriter stderr, out IReadOnlySet<Outcome>? failOn)
    {
        failOn = null;
        if (value is null) return true;
        var set = new HashSet<Outcome>();
        var ok = true;
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var match = Outcomes.Where(o => o.Name().Equals(part, StringComparison.OrdinalIgnoreCase)).ToList();
            if (match.Count == 1) set.Add(match[0]);
            else
            {
                stderr.WriteLine($"--fail-on: {(part.Length == 0 ? "an empty name" : $"\"{part}\"")} is not an outcome; use a comma-separated list of {string.Join(", ", Outcomes.Select(o => o.Name()))} (e.g. --fail-on rejected,failed)");
                ok = false;
            }
        }
        failOn = set;
        return ok;
    }

    /// <summary>
    /// A token that looks like an option (<c>--fromat</c>) but is none of the command's: without this, the command would take it
    /// as a PATH (or refuse it as an unmatched token) and say something unrelated. Returns the message naming the closest option.
    /// </summary>
    public static string? UnknownOption(ParseResult parsed, RootCommand root)
    {
        var command = parsed.CommandResult.Command;
        var options = command.Options.Concat(root.Options.Where(o => o.Recursive || command == root)).Distinct().ToList();
        var names = options.SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct().ToList();
        var commandName = command == root ? "reflex" : $"reflex {command.Name}";
        Option? previous = null;
        foreach (var token in parsed.Tokens)
        {
            if (token.Type == TokenType.DoubleDash) break; // everything after -- is a PATH
            var takesValue = previous is not null && previous.ValueType != typeof(bool) && previous.Arity.MaximumNumberOfValues > 0;
            previous = token.Type == TokenType.Option ? options.FirstOrDefault(o => o.Name == token.Value || o.Aliases.Contains(token.Value)) : null;
            if (token.Type != TokenType.Argument || takesValue) continue;
            var text = token.Value;
            if (text.Length < 2 || text[0] != '-' || double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)) continue;
            var name = text.Split('=', ':')[0];
            if (names.Contains(name)) continue;
            // Suggest long names only, compared without their dashes (-fromat and --fromat both mean --format); a short -x
            // is one letter away from every other short name, so it gets the list instead.
            var bare = name.TrimStart('-');
            var closest = names.Where(n => n.StartsWith("--", StringComparison.Ordinal))
                .Select(n => (Name: n, Distance: Distance(bare, n[2..]))).OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault();
            var hint = bare.Length > 1 && closest.Name is not null && closest.Distance <= Math.Max(2, bare.Length / 3)
                ? $"did you mean {closest.Name}?"
                : $"the options are {string.Join(", ", names.Where(n => n.StartsWith("--", StringComparison.Ordinal)))}";
            return $"{commandName}: {name} is not an option; {hint} ({commandName} --help describes them; put -- before a PATH that starts with -)";
        }
        return null;
    }

    /// <summary>Levenshtein distance, case-insensitive: how many edits turn one name into the other.</summary>
    private static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    /// <summary>
    /// Why an output file cannot be written, checked before any work: its folder must exist and take a new file, and the
    /// file itself, when it exists, must be a writable file. Null when it can be written. Nothing is left behind.
    /// </summary>
    public static string? OutputProblem(string option, string path, string what)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"{option} {path}: cannot write {what}: not a usable file name ({ex.Message})";
        }
        if (Directory.Exists(full)) return $"{option} {path}: cannot write {what}: it is a folder; give a file name in it, such as {Path.Combine(path, "reflex-report.html")}";
        var folder = Path.GetDirectoryName(full) ?? full;
        if (!Directory.Exists(folder)) return $"{option} {path}: cannot write {what}: the folder {folder} does not exist; create it (mkdir -p {folder}) or choose another path";
        try
        {
            if (File.Exists(full))
            {
                using (new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) { } // opened, not changed
            }
            else
            {
                using (new FileStream(Path.Combine(folder, $".reflex-write-check-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"{option} {path}: cannot write {what}: {(File.Exists(full) ? "the file cannot be written" : $"the folder {folder} takes no new file")} ({ex.Message}); choose a path you can write to";
        }
        return null;
    }

    public static async Task<int> Replay(ReplayOptions o, TextWriter stdout, TextWriter stderr, Stream rawStdout, CancellationToken ct, ITerminal? terminal = null)
    {
        var plan = ReplaySetup.TryPrepare(o.Policy, o.Snapshot, o.Paths, stderr);
        if (plan is null) return UsageError;

        var engine = plan.NewEngine(o.Until);
        var progress = ReplayProgress.Create(terminal ?? RedirectedTerminal.Instance, stderr, plan.TotalBytes);
        // Rows written to the terminal the bar is drawn on go above it.
        var sharesTerminal = progress.Enabled && !(terminal?.IsOutputRedirected ?? true);
        var items = plan.Items(progress.OnBytesRead);
        try
        {
            var summary = await ReplayPrinter.PrintAsync(engine.RunAsync(items, ct), o.Format, stdout, stderr, rawStdout, ct, progress, sharesTerminal);
            return o.ExitCode(summary, stderr);
        }
        catch (IOException ex)
        {
            progress.Finish();
            stderr.WriteLine($"cannot read an input: {ex.Message}");
            return UsageError;
        }
    }
}
