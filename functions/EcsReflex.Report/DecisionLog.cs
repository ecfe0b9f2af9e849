using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using EcsReflex.Core;
using EcsReflex.Core.Decisions;

namespace EcsReflex.Report;

/// <summary>
/// Every decision of a report in a compact form, written while the replay streams: no object per decision is kept.
/// <para>
/// Columns (one entry per decision): the time as a delta in whole seconds from the previous decision (the details
/// carry the milliseconds),
/// and its kind: an index into the distinct combinations of its table values (trigger, outcome, detail type, handler,
/// code, cluster, service, operations), each an index into a string table.
/// What is unique per decision (the event's few words, its id, the input, the reason, the due time and the exact
/// requests) is one JSON array per decision, appended to a gzip stream as it comes: the <em>details</em>. Memory and
/// page size grow with the compressed details, which are bounded by <see cref="DetailBudget"/>: past half of it,
/// the details of <c>ignored</c> decisions are no longer kept, past all of it no details are (the row keeps its
/// columns, so it is still counted, filtered and listed). The page says how many rows have no details.
/// </para>
/// <para>The page's script reads the same form (report.js); <see cref="Read"/> reads it back, for the tests.</para>
/// </summary>
public sealed class DecisionLog
{
    /// <summary>
    /// Compressed bytes of details kept at most: by default 4.5 MiB, 6.3 MB in base64 in the page, which leaves room for
    /// the columns (about a byte and a half a decision in base64) under 10 MB for two million decisions.
    /// </summary>
    public long DetailBudget { get; }

    public StringTable Triggers { get; } = new();
    public StringTable Outcomes { get; } = new();
    public StringTable DetailTypes { get; } = new();
    public StringTable Handlers { get; } = new();
    public StringTable Codes { get; } = new();
    public StringTable Clusters { get; } = new();
    public StringTable Services { get; } = new();
    public StringTable Operations { get; } = new();

    // Per row: the kind (the tuple of its table values, see Kinds), the whole seconds since the previous
    // dated row and the details' length, the last two as LEB128 varints (one byte for most rows).
    private readonly Column<ushort> _kind = new();
    private readonly Column<byte> _dsec = new();
    private readonly Column<byte> _len = new();
    private long _lastSecond;

    /// <summary>
    /// The distinct combinations of a row's table values (trigger, outcome, detail type, handler, code, cluster, service,
    /// operations), as indices into their tables: a row stores one index into this list, which is small and repeats.
    /// </summary>
    private readonly List<Kind> _kinds = [];
    private readonly Dictionary<Kind, ushort> _kindIndex = new();
    public IReadOnlyList<Kind> Kinds => _kinds;

    /// <summary>One combination of table values (indices into <see cref="Triggers"/>, <see cref="Outcomes"/>…).</summary>
    public readonly record struct Kind(ushort Trigger, ushort Outcome, ushort DetailType, ushort Handler, ushort Code, ushort Cluster, ushort Service, ushort Operations);

    private ushort KindOf(Kind k)
    {
        if (_kindIndex.TryGetValue(k, out var i)) return i;
        if (_kinds.Count >= ushort.MaxValue) // more combinations than a u16 holds: the rest share the last (never in practice)
            return (ushort)(_kinds.Count - 1);
        i = (ushort)_kinds.Count;
        _kinds.Add(k);
        _kindIndex[k] = i;
        return i;
    }

    private static void Varint(Column<byte> c, ulong v)
    {
        while (v >= 0x80) { c.Add((byte)(v | 0x80)); v >>= 7; }
        c.Add((byte)v);
    }

    private readonly MemoryStream _detailsCompressed = new();
    private readonly GZipStream _detailsGzip;
    private readonly ArrayBufferWriter<byte> _row = new(4096);
    private readonly Utf8JsonWriter _json;
    private long _detailsBytes;
    private bool _closed;

    /// <summary>The time every row's seconds count from: the first dated row's whole second (Unix seconds).</summary>
    public long Epoch { get; private set; } = long.MinValue;
    public int Count { get; private set; }
    /// <summary>Rows whose details were not kept (over <see cref="DetailBudget"/>).</summary>
    public int WithoutDetails { get; private set; }
    /// <summary>Uncompressed bytes of the details kept.</summary>
    public long DetailBytes => _detailsBytes;

    public DecisionLog(long detailBudget = 9L << 19)
    {
        DetailBudget = detailBudget;
        _detailsGzip = new GZipStream(_detailsCompressed, CompressionLevel.Optimal, leaveOpen: true);
        _json = new Utf8JsonWriter(_row, MinimalJsonEncoder.WriterOptions);
    }

    /// <summary>Compressed bytes of details so far (the gzip stream's output, a little behind its input).</summary>
    public long DetailCompressedBytes => _detailsCompressed.Length;

    /// <summary>Appends one decision. <paramref name="writeRequests"/> writes the exact requests, in order, one JSON value each.</summary>
    /// <summary>
    /// Whether a decision with this outcome would have its details kept now: a caller that learns it will not can
    /// skip building them (a row with its columns only, and <c>operations</c> given to <see cref="Add"/>).
    /// </summary>
    public bool KeepsDetails(Outcome outcome) =>
        DetailCompressedBytes < DetailBudget && (outcome != Outcome.Ignored || DetailCompressedBytes < DetailBudget / 2);

    /// <summary>
    /// Appends one decision. <paramref name="writeRequest"/> writes the request of action i (else each action's
    /// RequestJson is written). <paramref name="operations"/>, when given, stands for the row's operations joined by
    /// "+" (for a row built without its actions because <see cref="KeepsDetails"/> said no).
    /// </summary>
    public void Add(DecisionRow row, Action<Utf8JsonWriter, int>? writeRequest = null, string? operations = null)
    {
        if (_closed) throw new InvalidOperationException("the log was already written");
        var millis = 0;
        if (row.Time is { } t)
        {
            var unix = t.ToUnixTimeMilliseconds();
            var sec = Math.DivRem(unix, 1000, out var ms);
            if (ms < 0) { sec--; ms += 1000; }
            if (Epoch == long.MinValue) Epoch = _lastSecond = sec;
            // Zigzag (a row may be dated before the previous one), plus one: 0 is "no time".
            var delta = sec - _lastSecond;
            _lastSecond = sec;
            Varint(_dsec, (ulong)((delta << 1) ^ (delta >> 63)) + 1);
            millis = (int)ms;
        }
        else
        {
            Varint(_dsec, 0);
        }
        _kind.Add(KindOf(new Kind(Triggers.Index(row.Trigger), Outcomes.Index(row.Outcome.Name()), DetailTypes.Index(row.DetailType),
            Handlers.Index(row.Handler), Codes.Index(row.Code), Clusters.Index(row.Cluster), Services.Index(row.Service),
            Operations.Index(operations ?? (row.Actions.Count == 0 ? null : string.Join("+", row.Actions.Select(a => a.Operation)))))));

        var keep = KeepsDetails(row.Outcome);
        if (!keep)
        {
            WithoutDetails++;
            Varint(_len, 0);
            Count++;
            return;
        }
        _row.ResetWrittenCount();
        _json.Reset();
        _json.WriteStartArray();
        Str(row.Event);
        Str(row.EventId);
        _json.WriteStringValue(row.Input);
        _json.WriteStringValue(row.Reason);
        if (row.DueAt is { } due) _json.WriteStringValue(Iso(due)); else _json.WriteNullValue();
        Str(row.RejectionCode);
        _json.WriteStartArray();
        for (var i = 0; i < row.Actions.Count; i++)
        {
            var a = row.Actions[i];
            _json.WriteStartArray();
            _json.WriteStringValue(a.Service);
            _json.WriteStringValue(a.Operation);
            _json.WriteStringValue(a.Status);
            Str(a.Detail);
            _json.WriteStringValue(a.Summary);
            if (writeRequest is not null) writeRequest(_json, i);
            else if (a.RequestJson.Length > 0) _json.WriteRawValue(a.RequestJson, skipInputValidation: true);
            else _json.WriteNullValue();
            _json.WriteEndArray();
        }
        _json.WriteEndArray();
        // The time's milliseconds (the columns keep whole seconds: random milliseconds would cost a byte a row).
        if (millis != 0) _json.WriteNumberValue(millis);
        _json.WriteEndArray();
        _json.Flush();
        _detailsGzip.Write(_row.WrittenSpan);
        _detailsBytes += _row.WrittenCount;
        Varint(_len, (ulong)_row.WrittenCount);
        Count++;
    }

    private void Str(string? s)
    {
        if (s is null) _json.WriteNullValue(); else _json.WriteStringValue(s);
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>Sets the service of a row after the fact (an alarm's row, once the report learned which service the alarm drives).</summary>
    public void SetService(int row, string service, string? cluster)
    {
        var k = _kinds[_kind[row]];
        k = k with { Service = Services.Index(service), Cluster = cluster is not null && k.Cluster == 0 ? Clusters.Index(cluster) : k.Cluster };
        _kind[row] = KindOf(k);
    }

    public string? ServiceOf(int row) => Services[_kinds[_kind[row]].Service];
    public string? ClusterOf(int row) => Clusters[_kinds[_kind[row]].Cluster];

    /// <summary>The compressed details, closing the gzip stream (no row can be added afterwards).</summary>
    public ReadOnlyMemory<byte> CompressedDetails()
    {
        if (!_closed)
        {
            _detailsGzip.Dispose();
            _closed = true;
        }
        return _detailsCompressed.GetBuffer().AsMemory(0, (int)_detailsCompressed.Length);
    }

    /// <summary>The columns' layout in <see cref="CompressedColumns"/>: name, element type and byte offset, in order.</summary>
    public IReadOnlyList<(string Name, string Type, int Offset)> Layout { get; private set; } = [];

    /// <summary>
    /// The columns, gzipped, as one buffer: each column's little-endian elements at a 4-byte aligned offset (<see cref="Layout"/>):
    /// <c>kind</c> (an index into <see cref="Kinds"/>: u8 when there are at most 256 kinds, else u16), <c>dsec</c> (varint: 0 for no time, else the zigzag
    /// of the seconds since the previous dated row plus one) and <c>len</c> (varint: the details' bytes, 0 for none).
    /// A stream in time order makes most of them one byte that gzip shrinks to almost nothing.
    /// </summary>
    public byte[] CompressedColumns()
    {
        var layout = new List<(string, string, int)>();
        var raw = new MemoryStream();
        void Pad() { while (raw.Length % 4 != 0) raw.WriteByte(0); }
        void Put<T>(string name, string type, Column<T> c) where T : unmanaged
        {
            Pad();
            layout.Add((name, type, (int)raw.Length));
            raw.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.Span));
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the report's columns are written little-endian");
        if (_kinds.Count <= byte.MaxValue + 1)
        {
            // Few kinds (the usual case): one byte each, which gzip models better than two.
            var narrow = new Column<byte>();
            foreach (var k in _kind.Span) narrow.Add((byte)k);
            Put("kind", "u8", narrow);
        }
        else Put("kind", "u16", _kind);
        Put("dsec", "varint", _dsec);
        Put("len", "varint", _len);
        Layout = layout;
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(raw.GetBuffer(), 0, (int)raw.Length);
        return output.ToArray();
    }

    /// <summary>
    /// Reads the compact form back into rows (what the page shows), from the two gzipped buffers: for the tests, and
    /// for anyone who wants the decisions of a page. Rows without details have only their columns.
    /// </summary>
    public static IEnumerable<DecisionRow> Read(ReadOnlyMemory<byte> columns, IReadOnlyList<(string Name, string Type, int Offset)> layout, int count,
        long epoch, IReadOnlyDictionary<string, IReadOnlyList<string?>> tables, ReadOnlyMemory<byte> details)
    {
        var raw = Gunzip(columns.Span);
        var heap = Gunzip(details.Span);
        int Off(string name) => layout.Single(l => l.Name == name).Offset;
        var kindType = layout.Single(l => l.Name == "kind").Type;
        int Kind(int i) => kindType == "u8" ? raw[Off("kind") + i] : BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(Off("kind") + 2 * i));
        int dsecAt = Off("dsec"), lenAt = Off("len");
        ulong Next(ref int p)
        {
            ulong v = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = raw[p++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
        }
        string? T(string table, int index) => tables[table][index];
        var kinds = tables["kinds"];
        var seconds = epoch;
        var at = 0;
        for (var i = 0; i < count; i++)
        {
            var z = Next(ref dsecAt);
            DateTimeOffset? time = null;
            if (z != 0)
            {
                var delta = (long)((z - 1) >> 1) ^ -(long)((z - 1) & 1);
                seconds += delta;
                time = DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
            var len = (int)Next(ref lenAt);
            var k = kinds[Kind(i)]!.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            var outcome = Enum.GetValues<Outcome>().Single(o => o.Name() == T("outcome", k[1]));
            var row = new DecisionRow
            {
                Index = i,
                Time = time,
                Trigger = T("trigger", k[0])!,
                DetailType = T("detailType", k[2]),
                Handler = T("handler", k[3]),
                Outcome = outcome,
                Code = T("code", k[4]),
                Cluster = T("cluster", k[5]),
                Service = T("service", k[6]),
                Reason = "",
                Input = "",
                HasDetails = len > 0,
            };
            if (len > 0)
            {
                using var doc = JsonDocument.Parse(heap.AsMemory(at, len));
                var e = doc.RootElement;
                string? S(int k) => e[k].ValueKind == JsonValueKind.Null ? null : e[k].GetString();
                row = row with
                {
                    Event = S(0), EventId = S(1), Input = S(2)!, Reason = S(3)!,
                    DueAt = S(4) is { } due ? DateTimeOffset.Parse(due, CultureInfo.InvariantCulture) : null,
                    RejectionCode = S(5),
                    Time = time is { } whole && e.GetArrayLength() > 7 ? whole.AddMilliseconds(e[7].GetInt32()) : time,
                    Actions = [.. e[6].EnumerateArray().Select(a => new ActionRow(a[0].GetString()!, a[1].GetString()!, a[2].GetString()!,
                        a[3].ValueKind == JsonValueKind.Null ? null : a[3].GetString(), a[4].GetString()!, a[5].GetRawText()))],
                };
                at += len;
            }
            yield return row;
        }
    }

    /// <summary>Reads this log back (after the page was written, or instead of it: it closes the details).</summary>
    public IEnumerable<DecisionRow> ReadBack() => Read(CompressedColumns(), Layout, Count, Epoch == long.MinValue ? 0 : Epoch, Tables, CompressedDetails());

    private static byte[] Gunzip(ReadOnlySpan<byte> data)
    {
        using var input = new MemoryStream(data.ToArray());
        using var gz = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        gz.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>The string tables by the names the page uses.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string?>> Tables => new Dictionary<string, IReadOnlyList<string?>>
    {
        ["trigger"] = Triggers.Values, ["outcome"] = Outcomes.Values, ["detailType"] = DetailTypes.Values, ["handler"] = Handlers.Values,
        ["code"] = Codes.Values, ["cluster"] = Clusters.Values, ["service"] = Services.Values, ["ops"] = Operations.Values,
        // For Read: each kind as "trigger,outcome,detailType,handler,code,cluster,service,ops" (the page has them as arrays).
        ["kinds"] = [.. _kinds.Select(k => string.Join(',', k.Trigger, k.Outcome, k.DetailType, k.Handler, k.Code, k.Cluster, k.Service, k.Operations))],
    };

    /// <summary>A growable array of unmanaged values: a column.</summary>
    private sealed class Column<T> where T : unmanaged
    {
        private T[] _items = new T[1024];
        public int Count { get; private set; }
        public void Add(T value)
        {
            if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
            _items[Count++] = value;
        }
        public T this[int i] { get => _items[i]; set => _items[i] = value; }
        public ReadOnlySpan<T> Span => _items.AsSpan(0, Count);
    }
}

/// <summary>Distinct strings, each with a small index; index 0 is null (absent).</summary>
public sealed class StringTable
{
    /// <summary>At most this many strings; later new ones share the last index, "(other)".</summary>
    public const int Max = ushort.MaxValue;
    private const string Other = "(other)";
    private readonly Dictionary<string, ushort> _index = new(StringComparer.Ordinal);
    private readonly List<string?> _values = [null];

    public IReadOnlyList<string?> Values => _values;
    public string? this[int i] => _values[i];

    public ushort Index(string? value)
    {
        if (value is null) return 0;
        if (_index.TryGetValue(value, out var i)) return i;
        if (_values.Count >= Max - 1)
        {
            if (_index.TryGetValue(Other, out i)) return i;
            value = Other;
        }
        i = (ushort)_values.Count;
        _values.Add(value);
        _index[value] = i;
        return i;
    }
}
