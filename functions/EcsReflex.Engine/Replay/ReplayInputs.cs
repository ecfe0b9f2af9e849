using EcsReflex.Core.Events;

namespace EcsReflex.Engine.Replay;

/// <summary>One input read by the replay: an event, or the reason it could not be one.</summary>
public sealed record InputItem(string Input, EventEnvelope? Event, EventRejectedException? Rejection, DateTimeOffset? SortTime);

public sealed class InputPathException(IReadOnlyList<string> problems)
    : Exception(string.Join("\n", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Finds and reads replay inputs: a <c>.json</c> file is one event, a <c>.jsonl</c> file one event per
/// line; a folder means every such file under it (snapshots, <c>*.snapshot.json</c>, excluded).
/// Files are streamed, never loaded whole.
/// </summary>
public static class ReplayInputs
{
    public static IReadOnlyList<string> ResolveFiles(IReadOnlyList<string> paths)
    {
        var files = new List<string>();
        var problems = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(IsInputFile)
                    .OrderBy(f => f, StringComparer.Ordinal));
            }
            else if (File.Exists(path)) files.Add(path);
            else problems.Add($"{path}: no such file or folder");
        }
        if (problems.Count > 0) throw new InputPathException(problems);
        return files;
    }

    public static bool IsInputFile(string f) =>
        (f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        && !f.EndsWith(".snapshot.json", StringComparison.OrdinalIgnoreCase)
        && !f.EndsWith(".policy.json", StringComparison.OrdinalIgnoreCase)
        && !f.EndsWith(".schema.json", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads one file lazily. Opening errors surface as <see cref="IOException"/> on first read.
    /// <paramref name="bytesRead"/>, when given, hears how many bytes of the file were read, as they are read (for progress).
    /// </summary>
    public static IEnumerable<InputItem> Read(string file, string label, Action<long>? bytesRead = null)
    {
        if (file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            DateTimeOffset? last = null;
            var pool = new StringPool(); // repeated values (ARNs, statuses) are read once per stream
            foreach (var (line, bytes) in Lines(file, bytesRead))
            {
                var item = ParseOne($"{label}:{line}", bytes, last, pool);
                last = item.SortTime ?? last;
                yield return item;
            }
        }
        else
        {
            var all = File.ReadAllBytes(file);
            bytesRead?.Invoke(all.Length);
            yield return ParseOne(label, all, null);
        }
    }

    public static InputItem ParseOne(string input, ReadOnlyMemory<byte> bytes, DateTimeOffset? fallbackTime, StringPool? pool = null)
    {
        try
        {
            var e = EventParser.Parse(bytes, pool);
            return new InputItem(input, e, null, e.EffectiveTime ?? fallbackTime);
        }
        catch (EventRejectedException ex)
        {
            return new InputItem(input, null, ex, fallbackTime);
        }
    }

    /// <summary>Non-blank lines of a file as bytes, with 1-based line numbers. Streams in 64 KiB chunks.</summary>
    public static IEnumerable<(int Line, ReadOnlyMemory<byte> Bytes)> Lines(string file, Action<long>? bytesRead = null)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var buffer = new byte[64 * 1024];
        int start = 0, end = 0, lineNo = 0;
        while (true)
        {
            var nl = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (nl >= 0)
            {
                lineNo++;
                var len = nl - start;
                if (len > 0 && buffer[nl - 1] == '\r') len--;
                if (!IsBlank(buffer.AsSpan(start, len))) yield return (lineNo, buffer.AsMemory(start, len));
                start = nl + 1;
                continue;
            }
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2); // a line longer than the buffer
            var read = stream.Read(buffer, end, buffer.Length - end);
            if (read > 0) bytesRead?.Invoke(read);
            if (read == 0)
            {
                if (end > start && !IsBlank(buffer.AsSpan(start, end - start)))
                    yield return (lineNo + 1, buffer.AsMemory(start, end - start));
                yield break;
            }
            end += read;
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }

    /// <summary>
    /// Merges the inputs by event time. Each file is assumed to be in time order (a stream as captured);
    /// across files, the earliest next event goes first; ties keep file order.
    /// </summary>
    public static IEnumerable<InputItem> Merge(IReadOnlyList<IEnumerable<InputItem>> sources)
    {
        var enumerators = sources.Select(s => s.GetEnumerator()).ToList();
        try
        {
            var queue = new PriorityQueue<int, (DateTimeOffset, int)>();
            for (var i = 0; i < enumerators.Count; i++)
                if (enumerators[i].MoveNext()) queue.Enqueue(i, (enumerators[i].Current.SortTime ?? DateTimeOffset.MinValue, i));
            while (queue.TryDequeue(out var i, out _))
            {
                var e = enumerators[i];
                yield return e.Current;
                if (e.MoveNext()) queue.Enqueue(i, (e.Current.SortTime ?? DateTimeOffset.MinValue, i));
            }
        }
        finally
        {
            foreach (var e in enumerators) e.Dispose();
        }
    }
}
