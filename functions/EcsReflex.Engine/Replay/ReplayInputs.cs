using System.IO.Compression;
using EcsReflex.Core;
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
/// Finds and reads replay inputs: a <c>.json</c> file is one event, a <c>.jsonl</c> or <c>.ndjson</c> file
/// one event per line, and each may be gzipped (<c>.json.gz</c>, <c>.jsonl.gz</c>, <c>.ndjson.gz</c>); a
/// folder means every such file under it (snapshots, policies and schemas excluded). A UTF-8 byte order
/// mark at the start of a file is skipped. Files are streamed, never loaded whole (a <c>.json</c> event
/// is one document and is read as one).
/// </summary>
public static class ReplayInputs
{
    private static readonly string[] Extensions = [".json", ".jsonl", ".ndjson"];
    private static readonly string[] Excluded = [".snapshot.json", ".policy.json", ".schema.json"];

    /// <summary>What a folder is searched for, as error messages say it.</summary>
    public const string LookedFor = "*.json, *.jsonl, *.ndjson and the same gzipped (*.json.gz, *.jsonl.gz, *.ndjson.gz), "
        + "except *.snapshot.json, *.policy.json and *.schema.json";

    public static IReadOnlyList<string> ResolveFiles(IReadOnlyList<string> paths)
    {
        var files = new List<string>();
        var problems = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var found = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(IsInputFile)
                    .OrderBy(f => f, StringComparer.Ordinal)
                    .ToList();
                if (found.Count == 0)
                    problems.Add($"{path}: no event files in this folder or under it (looked for {LookedFor}); give a folder or file that holds events");
                else if (!found.Any(f => Peek(f, problems) != Content.Empty))
                    problems.Add($"{path}: every event file in this folder is empty ({found.Count} file{(found.Count == 1 ? "" : "s")}, no event in any); give a folder or file that holds events");
                files.AddRange(found);
            }
            else if (File.Exists(path))
            {
                if (Peek(path, problems) == Content.Empty)
                    problems.Add($"{path}: the file holds no event: it is empty{(IsGzip(path) ? " once decompressed" : "")} or holds only blank lines; give a file with at least one event");
                files.Add(path);
            }
            else problems.Add($"{path}: no such file or folder");
        }
        if (problems.Count > 0) throw new InputPathException(problems.Distinct().ToList());
        return files;
    }

    private enum Content { Empty, Some, Unreadable }

    /// <summary>Reads as far as the first byte that is not blank (nor a byte order mark): does the file hold anything?</summary>
    private static Content Peek(string file, List<string> problems)
    {
        try
        {
            using var stream = Open(file, null);
            var buffer = new byte[4096];
            var first = true;
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                ReadOnlySpan<byte> span = buffer.AsSpan(0, n);
                if (first) span = JsonText.WithoutBom(span);
                first = false;
                if (span.IndexOfAnyExcept(" \t\r\n"u8) >= 0) return Content.Some;
            }
            return Content.Empty;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add(ex.InnerException is InvalidDataException ? ex.Message : $"{file}: cannot read it: {ex.Message}");
            return Content.Unreadable;
        }
    }

    private static string WithoutGz(string f) => IsGzip(f) ? f[..^3] : f;

    public static bool IsGzip(string file) => file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    public static bool IsInputFile(string f)
    {
        var name = WithoutGz(f);
        return Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase))
            && !Excluded.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Is the file one event per line (<c>.jsonl</c>, <c>.ndjson</c>, gzipped or not)?</summary>
    public static bool IsLines(string file)
    {
        var name = WithoutGz(file);
        return name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Opens a file for reading from the start, decompressing <c>.gz</c> on the fly. <paramref name="bytesRead"/> hears the
    /// bytes read from the file itself (compressed, so they add up to its size); a damaged gzip stream is an <see cref="IOException"/>.
    /// </summary>
    public static Stream Open(string file, Action<long>? bytesRead)
    {
        Stream stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        if (bytesRead is not null) stream = new ReadStream(stream, bytesRead, null);
        return IsGzip(file) ? new ReadStream(new GZipStream(stream, CompressionMode.Decompress), null, file) : stream;
    }

    /// <summary>
    /// Reads one file lazily. Opening errors surface as <see cref="IOException"/> on first read.
    /// <paramref name="bytesRead"/>, when given, hears how many bytes of the file were read, as they are read (for progress).
    /// </summary>
    public static IEnumerable<InputItem> Read(string file, string label, Action<long>? bytesRead = null)
    {
        if (IsLines(file))
        {
            DateTimeOffset? last = null;
            var pool = new StringPool(); // repeated values (ARNs, statuses) are read once per stream
            foreach (var (line, bytes) in Lines(file, bytesRead))
            {
                var item = ParseOne($"{label}:{line}", bytes, last, pool, oneLine: true);
                last = item.SortTime ?? last;
                yield return item;
            }
        }
        else yield return ParseOne(label, ReadWhole(file, bytesRead), null);
    }

    /// <summary>A one-event file (<c>.json</c> or <c>.json.gz</c>) as its bytes, without a byte order mark.</summary>
    public static ReadOnlyMemory<byte> ReadWhole(string file, Action<long>? bytesRead = null)
    {
        if (!IsGzip(file))
        {
            var all = File.ReadAllBytes(file);
            bytesRead?.Invoke(all.Length);
            return JsonText.WithoutBom(all.AsMemory());
        }
        using var stream = Open(file, bytesRead);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return JsonText.WithoutBom(copy.GetBuffer().AsMemory(0, (int)copy.Length));
    }

    /// <summary>
    /// Parses one input. A JSON syntax error adds where it is to <paramref name="input"/>: <c>:COLUMN</c> for a line of a
    /// stream (whose input already ends with its line number, <paramref name="oneLine"/>), <c>:LINE:COLUMN</c> for a file.
    /// </summary>
    public static InputItem ParseOne(string input, ReadOnlyMemory<byte> bytes, DateTimeOffset? fallbackTime, StringPool? pool = null, bool oneLine = false)
    {
        try
        {
            var e = EventParser.Parse(bytes, pool);
            return new InputItem(input, e, null, e.EffectiveTime ?? fallbackTime);
        }
        catch (EventRejectedException ex)
        {
            var at = ex.Syntax is not { } s ? input : oneLine ? $"{input}:{s.Column}" : $"{input}:{s.Line}:{s.Column}";
            return new InputItem(at, null, ex, fallbackTime);
        }
    }

    /// <summary>
    /// Non-blank lines of a file (gzipped or not) as bytes, with 1-based line numbers; a byte order mark before the first
    /// line is skipped. Streams in 64 KiB chunks.
    /// </summary>
    public static IEnumerable<(int Line, ReadOnlyMemory<byte> Bytes)> Lines(string file, Action<long>? bytesRead = null)
    {
        using var stream = Open(file, bytesRead);
        foreach (var line in Lines(stream)) yield return line;
    }

    /// <summary>Non-blank lines of a stream, as <see cref="Lines(string, Action{long}?)"/>.</summary>
    public static IEnumerable<(int Line, ReadOnlyMemory<byte> Bytes)> Lines(Stream stream)
    {
        var buffer = new byte[64 * 1024];
        int start = 0, end = 0, lineNo = 0;
        var bomChecked = false;
        while (true)
        {
            if (!bomChecked && (end >= 3 || start > 0 || lineNo > 0))
            {
                bomChecked = true; // only the very first bytes of the stream can be a byte order mark
                if (start == 0 && lineNo == 0 && end >= 3 && JsonText.WithoutBom(buffer.AsSpan(0, 3)).IsEmpty) start = 3;
            }
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

/// <summary>
/// A read-only pass-through that tells how many bytes were read (progress), or that turns a damaged gzip stream's
/// <see cref="InvalidDataException"/> into the <see cref="IOException"/> an unreadable input is reported as.
/// </summary>
internal sealed class ReadStream(Stream inner, Action<long>? bytesRead, string? gzipFile) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = inner.Read(buffer);
        }
        catch (InvalidDataException ex) when (gzipFile is not null)
        {
            throw new IOException($"{gzipFile}: not a readable gzip file ({ex.Message}); check it with gzip -t", ex);
        }
        if (n > 0) bytesRead?.Invoke(n);
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
