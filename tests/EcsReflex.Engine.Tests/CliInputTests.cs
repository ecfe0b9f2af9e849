using System.IO.Compression;
using System.Text;
using System.Text.Json;
using EcsReflex.Cli;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// What the command line reads and how it says what is wrong: byte order marks, .ndjson and .gz inputs, syntax errors
/// at FILE:LINE:COLUMN, paths that hold no event, unknown options, output paths checked first, --fail-on, text as written.
/// </summary>
public sealed class CliInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("reflex-cli-inputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Out, string Err, string Raw)> Run(params string[] args) => CliRun.RunAsync(args);

    private static string Policy => Repository.Path("reflex.policy.json");
    private static string Snapshot => Repository.Path("events", "cluster.snapshot.json");
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private static string Sample(string name) => File.ReadAllText(Repository.Path("events", name));

    /// <summary>A sample event on one line, with its id changed so that no two inputs are duplicates.</summary>
    private static string Line(string name, string id)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Sample(name))!;
        node["id"] = id;
        return node.ToJsonString();
    }

    private string Write(string name, string text, bool bom = false) => Write(name, (bom ? Bom : []).Concat(Encoding.UTF8.GetBytes(text)).ToArray());

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (name.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var file = File.Create(path);
            using var gz = new GZipStream(file, CompressionLevel.Fastest);
            gz.Write(bytes);
        }
        else File.WriteAllBytes(path, bytes);
        return path;
    }

    private static async Task<List<JsonElement>> Records(params string[] paths)
    {
        var (code, _, stderr, raw) = await Run(["replay", "--policy", Policy, "--snapshot", Snapshot, "--format", "jsonl", .. paths]);
        Assert.True(code == 0, stderr);
        return [.. raw.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    private static List<JsonElement> Inputs(List<JsonElement> records) =>
        [.. records.Where(r => r.GetProperty("trigger").GetString() == "event" && r.GetProperty("input").GetString() != Replay.ReplayEngine.EmittedInput)];

    // ---- byte order marks ----

    [Fact]
    public async Task Replay_EventFilesWithAByteOrderMark_AreReadLikeAnyOther()
    {
        var json = Write("bom.json", Sample("ecs-task-stopped-essential-exit-1.json"), bom: true);
        var lines = Write("bom.jsonl", Line("ecs-task-running-worker.json", "l1") + "\n" + Line("ecs-task-stopped-user-initiated.json", "l2") + "\n", bom: true);

        var inputs = Inputs(await Records(json, lines));

        Assert.Equal(3, inputs.Count);
        Assert.DoesNotContain(inputs, r => r.GetProperty("outcome").GetString() == "rejected");
    }

    [Fact]
    public async Task Validate_PolicyWithAByteOrderMark_IsValid()
    {
        var policy = Write("p.policy.json", File.ReadAllText(Policy), bom: true);
        var (code, stdout, stderr, _) = await Run("validate", "--policy", policy);
        Assert.True(code == 0, stderr);
        Assert.Contains("valid", stdout);
    }

    [Fact]
    public async Task Replay_SnapshotWithAByteOrderMark_IsRead()
    {
        var snapshot = Write("c.snapshot.json", File.ReadAllText(Snapshot), bom: true);
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", snapshot, Repository.Path("events", "ecs-task-running-worker.json"));
        Assert.True(code == 0, stderr);
    }

    // ---- syntax errors at FILE:LINE:COLUMN ----

    // Line 6 holds "time" and the line before it lost its comma: the error is found on line 6, at column 3.
    private const string EventMissingCommaBeforeLine6 = "{\n  \"version\": \"0\",\n  \"id\": \"x\",\n  \"detail-type\": \"ECS Task State Change\",\n  \"source\": \"aws.ecs\"\n  \"time\": \"2026-03-02T10:23:19Z\",\n  \"detail\": {}\n}\n";

    [Fact]
    public async Task Replay_JsonFileWithASyntaxError_IsRejectedAtFileLineColumn_1Based()
    {
        var file = Write("bad.json", EventMissingCommaBeforeLine6);

        var record = Assert.Single(await Records(file));

        Assert.Equal(ReplayPlan.Label(file) + ":6:3", record.GetProperty("input").GetString());
        Assert.Equal("rejected", record.GetProperty("outcome").GetString());
        Assert.Equal("invalid-json", record.GetProperty("rejection").GetString());
        var reason = record.GetProperty("reason").GetString()!;
        Assert.Contains("a ',' is missing", reason);
        Assert.Contains("'\"time\"'", reason);
        Assert.DoesNotContain("BytePositionInLine", reason);
    }

    [Fact]
    public async Task Replay_JsonlLineWithASyntaxError_IsRejectedAtFileLineColumn()
    {
        var file = Write("bad.jsonl", Line("ecs-task-running-worker.json", "ok") + "\n{\"id\": \"x\" \"source\": \"aws.ecs\"}\n");

        var records = Inputs(await Records(file));

        var bad = Assert.Single(records, r => r.GetProperty("outcome").GetString() == "rejected");
        Assert.Equal(ReplayPlan.Label(file) + ":2:12", bad.GetProperty("input").GetString());
        Assert.Equal("invalid-json", bad.GetProperty("rejection").GetString());
        Assert.Contains(records, r => r.GetProperty("input").GetString() == ReplayPlan.Label(file) + ":1");
    }

    [Fact]
    public async Task Validate_PolicySyntaxError_IsPrintedAsFileLineColumn()
    {
        var policy = Write("p.policy.json", "{\n  \"clusters\": [\n    {\n      \"cluster\": \"prod\",\n      \"limits\": {}\n      \"reschedule\": []\n    }\n  ]\n}\n");
        var (code, _, stderr, _) = await Run("validate", "--policy", policy);
        Assert.Equal(2, code);
        Assert.StartsWith($"{policy}:6:7: not valid JSON: a ',' is missing", stderr);
        Assert.Contains("\"reschedule\": []", stderr);
    }

    [Fact]
    public async Task Replay_SnapshotSyntaxError_IsPrintedAsFileLineColumn()
    {
        var snapshot = Write("c.snapshot.json", "{\n  \"services\": [\n  ],\n  \"tasks\": [}\n");
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", snapshot, Repository.Path("events", "ecs-task-running-worker.json"));
        Assert.Equal(2, code);
        Assert.StartsWith($"{snapshot}:4:13: not valid JSON:", stderr);
    }

    // ---- .ndjson and .gz ----

    [Fact]
    public async Task Replay_NdjsonAndGzippedInputs_AreReadAsStreams_AndAFolderFindsThem()
    {
        Write("a/one.ndjson", Line("ecs-task-running-worker.json", "n1") + "\n" + Line("ecs-task-stopped-user-initiated.json", "n2") + "\n");
        Write("a/two.jsonl.gz", Line("ecs-task-running-worker.json", "g1") + "\n\n" + Line("ecs-task-stopped-user-initiated.json", "g2") + "\n", bom: true);
        Write("a/three.ndjson.gz", Line("ecs-task-running-worker.json", "z1") + "\n");
        Write("a/four.json.gz", Line("ecs-task-stopped-user-initiated.json", "j1"));
        Write("a/skip.snapshot.json.gz", File.ReadAllText(Snapshot));
        Write("a/skip.policy.json.gz", File.ReadAllText(Policy));
        Write("a/skip.schema.json", "{}");
        Write("a/notes.txt.gz", "not an input");

        var inputs = Inputs(await Records(Path.Combine(_dir, "a")));

        var names = inputs.Select(r => r.GetProperty("input").GetString()!).Order(StringComparer.Ordinal).ToList();
        var label = ReplayPlan.Label(Path.Combine(_dir, "a"));
        Assert.Equal([$"{label}/four.json.gz", $"{label}/one.ndjson:1", $"{label}/one.ndjson:2", $"{label}/three.ndjson.gz:1", $"{label}/two.jsonl.gz:1", $"{label}/two.jsonl.gz:3"], names);
        Assert.DoesNotContain(inputs, r => r.GetProperty("outcome").GetString() == "rejected");
    }

    [Fact]
    public async Task Replay_ADamagedGzipFile_IsExit2NamingIt()
    {
        var file = Path.Combine(_dir, "broken.jsonl.gz"); // a gzip header, then a block of a compression method that does not exist
        File.WriteAllBytes(file, [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0xFF, 0xFF]);
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, file);
        Assert.Equal(2, code);
        Assert.Contains($"{file}: not a readable gzip file", stderr);
    }

    // ---- a path that yields no event ----

    [Fact]
    public async Task Replay_EmptyFolder_IsExit2NamingThePathAndWhatWasLookedFor()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var (code, stdout, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, empty);
        Assert.Equal(2, code);
        Assert.Contains($"{empty}: no event files", stderr);
        Assert.Contains("*.ndjson", stderr);
        Assert.DoesNotContain("0 events", stdout + stderr);
    }

    [Fact]
    public async Task Replay_FolderWithNoInputFiles_IsExit2()
    {
        Write("other/readme.txt", "hello");
        Write("other/c.snapshot.json", File.ReadAllText(Snapshot));
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, Path.Combine(_dir, "other"));
        Assert.Equal(2, code);
        Assert.Contains("no event files", stderr);
    }

    [Theory]
    [InlineData("empty.json", "")]
    [InlineData("blank.jsonl", "\n   \n\t\n")]
    [InlineData("bom-only.ndjson", "\uFEFF")]
    [InlineData("empty.jsonl.gz", "")]
    public async Task Replay_FileThatHoldsNoEvent_IsExit2NamingIt(string name, string content)
    {
        var file = Write(name, content);
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, file);
        Assert.Equal(2, code);
        Assert.Contains($"{file}: the file holds no event", stderr);
    }

    [Fact]
    public async Task Replay_FolderWhoseFilesAreAllEmpty_IsExit2()
    {
        Write("hollow/a.json", "");
        Write("hollow/b.jsonl", "\n");
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, Path.Combine(_dir, "hollow"));
        Assert.Equal(2, code);
        Assert.Contains("every event file in this folder is empty", stderr);
    }

    // ---- unknown options ----

    [Theory]
    [InlineData("replay --fromat jsonl", "reflex replay: --fromat is not an option; did you mean --format?")]
    [InlineData("replay --snapshto x", "did you mean --snapshot?")]
    [InlineData("replay --fail-no rejected", "did you mean --fail-on?")]
    [InlineData("validate --polciy reflex.policy.json", "reflex validate: --polciy is not an option; did you mean --policy?")]
    [InlineData("report --ouptut r.html", "reflex report: --ouptut is not an option; did you mean --output?")]
    [InlineData("report --form 2026-03-02T00:00:00Z", "did you mean --from?")]
    [InlineData("replay --format=jsonl --fromat=table", "--fromat is not an option; did you mean --format?")]
    public async Task AnArgumentThatLooksLikeAnOption_ButIsNone_IsExit2NamingTheClosest(string args, string expected)
    {
        var (code, _, stderr, _) = await Run(args.Split(' '));
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("no such file or folder", stderr);
    }

    [Fact]
    public async Task AnUnknownOptionFarFromAnyName_ListsTheOptions()
    {
        var (code, _, stderr, _) = await Run("replay", "--xyzzy");
        Assert.Equal(2, code);
        Assert.Contains("--xyzzy is not an option; the options are --policy, --until, --snapshot, --format", stderr);
    }

    [Fact]
    public async Task APathAfterDoubleDash_IsAPathEvenWhenItStartsWithADash()
    {
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--", "--not-an-option");
        Assert.Equal(2, code);
        Assert.Contains("--not-an-option: no such file or folder", stderr);
    }

    [Fact]
    public async Task AnOptionValueThatStartsWithADash_IsNotTakenForAnOption()
    {
        var (code, _, stderr, _) = await Run("replay", "--policy", "-missing.json");
        Assert.Equal(2, code);
        Assert.Contains("-missing.json: cannot read the policy", stderr);
    }

    // ---- -o checked before the replay ----

    [Fact]
    public async Task Report_OutputInAFolderThatDoesNotExist_IsExit2BeforeReplaying()
    {
        var output = Path.Combine(_dir, "no-such-folder", "r.html");
        var (code, stdout, stderr, _) = await Run("report", "--policy", Policy, "--snapshot", Snapshot, "-o", output, Repository.Path("events"));
        Assert.Equal(2, code);
        Assert.Contains($"-o {output}: cannot write the report: the folder {Path.Combine(_dir, "no-such-folder")} does not exist", stderr);
        Assert.Equal("", stdout);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Report_OutputThatIsAFolder_IsExit2()
    {
        var (code, _, stderr, _) = await Run("report", "--policy", Policy, "-o", _dir, Repository.Path("events", "ecs-task-running-worker.json"));
        Assert.Equal(2, code);
        Assert.Contains($"-o {_dir}: cannot write the report: it is a folder", stderr);
    }

    [Fact]
    public async Task Report_OutputInAFolderThatCannotBeWritten_IsExit2()
    {
        if (OperatingSystem.IsWindows()) return;
        // root writes in any folder whatever its mode; /proc takes no new file even from root.
        var root = Environment.UserName == "root";
        var folder = root ? "/proc" : Directory.CreateDirectory(Path.Combine(_dir, "ro")).FullName;
        if (!root) File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var (code, _, stderr, _) = await Run("report", "--policy", Policy, "-o", Path.Combine(folder, "r.html"), Repository.Path("events", "ecs-task-running-worker.json"));
            Assert.Equal(2, code);
            Assert.Contains($"cannot write the report: the folder {folder} takes no new file", stderr);
            Assert.False(File.Exists(Path.Combine(folder, "r.html")));
        }
        finally
        {
            if (!root) File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task Report_WritableOutput_LeavesNoProbeFileBehind()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "out")).FullName;
        var (code, _, stderr, _) = await Run("report", "--policy", Policy, "--snapshot", Snapshot, "-o", Path.Combine(folder, "r.html"), Repository.Path("events", "ecs-task-running-worker.json"));
        Assert.True(code == 0, stderr);
        Assert.Equal(["r.html"], Directory.EnumerateFiles(folder).Select(Path.GetFileName));
    }

    // ---- --fail-on ----

    [Fact]
    public async Task Replay_FailOnRejected_WhenARecordIsRejected_Exits3()
    {
        var bad = Write("bad.json", "not json");
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, "--fail-on", "rejected,failed", bad, Repository.Path("events", "ecs-task-running-worker.json"));
        Assert.Equal(3, code);
        Assert.Contains("--fail-on rejected,failed: 1 record rejected; exit 3", stderr);
    }

    [Fact]
    public async Task Replay_FailOnRejected_WhenNothingIsRejected_Exits0()
    {
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, "--fail-on", "rejected,failed", Repository.Path("events"));
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public async Task Replay_FailOnAnOutcomeThatHappens_CountsEveryRecord_Exits3()
    {
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, "--format", "jsonl", "--fail-on", "acted", Repository.Path("events", "ecs-task-stopped-essential-exit-1.json"));
        Assert.Equal(3, code);
        Assert.Contains("record", stderr);
    }

    [Fact]
    public async Task Replay_FailOnAnUnknownOutcome_IsExit2NamingTheAllowedOnes()
    {
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--fail-on", "rejected,oops", Repository.Path("events"));
        Assert.Equal(2, code);
        Assert.Contains("--fail-on: \"oops\" is not an outcome; use a comma-separated list of acted, ignored, deferred, rejected, failed", stderr);
    }

    // ---- JSON lines print text as written ----

    [Fact]
    public async Task Replay_Jsonl_PrintsTextAsWritten_NotHtmlSafeEscapes()
    {
        var (code, _, stderr, raw) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, "--format", "jsonl", Repository.Path("events"));
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("\\u002B", raw);
        Assert.DoesNotContain("\\u2192", raw);
        Assert.DoesNotContain("\\u0027", raw);
        Assert.Contains("→", raw);
        Assert.Contains("+", raw);
        foreach (var line in raw.Split('\n', StringSplitOptions.RemoveEmptyEntries)) JsonDocument.Parse(line).Dispose();
    }
}
