using System.Globalization;
using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Report;

/// <summary>
/// Builds a <see cref="ReportModel"/> from the replay's records, one at a time, in the order the replay
/// produced them. Every record is given, including those outside the window: they keep the tracked state
/// (desired counts, alarm ownership) right, but only records inside the window are counted and shown.
/// </summary>
public sealed class ReportBuilder
{
    /// <summary>
    /// Above this many changes in a chart, a desired-count chart merges its points per time bucket: about two pixels
    /// a point on a chart 1,200 pixels wide, the width of the page's charts at 1,400 pixels.
    /// </summary>
    public const int MaxSeriesPoints = 600;
    /// <summary>Above this many alarm transitions in a chart, transitions are merged per time bucket (one mark, with its counts).</summary>
    public const int MaxAlarmMarks = 60;
    /// <summary>At most this many bars per relaunch chart; longer periods use buckets of several minutes.</summary>
    public const int MaxRelaunchBuckets = 600;
    /// <summary>Lineages followed at once; past this, lineages that went quiet and cannot reach the busiest are forgotten (their count is kept).</summary>
    public const int LineageWorkingSet = 4096;
    /// <summary>At most this many lineage lanes (the busiest ones).</summary>
    public const int MaxLanes = 40;
    /// <summary>Above this many marks, a lane merges marks of one kind per time bucket.</summary>
    public const int MaxLaneMarks = 160;

    private readonly ReflexPolicy _policy;
    private readonly ReportWindow _window;
    private readonly string _policyFile;
    private readonly IReadOnlyList<string> _inputs;

    private readonly Dictionary<(string Cluster, string Service), ServiceTrack> _services = new();
    private readonly Dictionary<string, (string Cluster, string Service)> _alarmOwner = new(StringComparer.Ordinal);
    // Alarm transitions, compact: time, alarm (index into _alarmNames), state and previous state (indices into _states).
    private readonly List<(long Ticks, int Alarm, byte State, byte Previous)> _alarmTransitions = [];
    private readonly HashSet<(int Alarm, long Ticks, byte State)> _seenTransitions = [];
    private readonly StringTable _alarmNames = new();
    private readonly StringTable _states = new();
    private readonly Dictionary<string, RelaunchTrack> _relaunches = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Cluster, string Lineage), LaneTrack> _lanes = new();
    // Lineages forgotten by the working set, by a 64-bit hash of their key: counted, not kept.
    private readonly HashSet<ulong> _forgottenLineages = [];
    private readonly DecisionLog _rows;
    private readonly List<(int Row, int Alarm)> _alarmRows = [];
    private readonly List<RejectedInput> _rejected = [];
    private readonly Dictionary<Outcome, int> _outcomes = new();
    private int _events, _timers, _sweeps, _relaunchCount, _giveUps, _scaleChanges, _placementChanges, _stops;
    private DateTimeOffset? _first, _last;
    private bool _windowStarted;

    /// <param name="scaledServices">The services to chart with their bounds and alarms; by default what <see cref="ReportPolicy.ScaledServices"/> reads from the policy.</param>
    public ReportBuilder(ReflexPolicy policy, ClusterSnapshot snapshot, ReportWindow? window = null, string policyFile = "",
        IReadOnlyList<string>? inputs = null, IReadOnlyList<ScaledServiceDeclaration>? scaledServices = null, long? detailBudget = null)
    {
        _rows = detailBudget is { } budget ? new DecisionLog(budget) : new DecisionLog();
        _policy = policy;
        _window = window ?? ReportWindow.All;
        _policyFile = policyFile;
        _inputs = inputs ?? [];
        foreach (var s in snapshot.Services)
        {
            var cluster = s.ClusterArn ?? Arns.ClusterArnOfService(s.ServiceArn) ?? "";
            Track(cluster, s.ServiceName).Current = s.DesiredCount;
        }
        foreach (var d in scaledServices ?? ReportPolicy.ScaledServices(policy))
        {
            var t = Track(d.Cluster, d.Service);
            t.Declared = true;
            t.Min = d.MinCount;
            t.Max = d.MaxCount;
            foreach (var a in d.AlarmNames) _alarmOwner[a] = (Arns.ClusterName(d.Cluster), d.Service);
        }
    }

    private sealed class ServiceTrack
    {
        public int? Current;
        public int? AtStart;
        public bool Declared;
        public bool Changed;
        public int? Min, Max;
        /// <summary>Changes in the window: time (UTC ticks), the count before and the count set.</summary>
        public readonly List<(long Ticks, int Before, int Value)> Changes = [];
    }

    private sealed class LaneTrack
    {
        public readonly List<LaneMark> Marks = [];
        public DateTimeOffset Last;
    }

    private sealed class RelaunchTrack(string clusterAsWritten)
    {
        public string ClusterAsWritten { get; } = clusterAsWritten;
        public readonly SortedDictionary<DateTimeOffset, int> PerMinute = new();
    }

    private ServiceTrack Track(string cluster, string service)
    {
        var key = (Arns.ClusterName(cluster), Arns.ServiceName(service));
        if (!_services.TryGetValue(key, out var t)) _services[key] = t = new ServiceTrack();
        return t;
    }

    /// <summary>Adds one record of the replay.</summary>
    public void Add(ReplayRecord r)
    {
        var shown = _window.Contains(r.Time);
        if (shown && r.Time is not null && !_windowStarted) StartWindow();
        if (shown && r.Time is { } t)
        {
            if (_first is null || t < _first) _first = t;
            if (_last is null || t > _last) _last = t;
        }

        TrackAlarm(r, shown);
        foreach (var a in r.Actions)
            if (a.Done) TrackAction(r, a.Action, shown);

        if (!shown) return;

        if (r.Trigger == "timer") _timers++; else if (r.Trigger == ReplayEngine.SweepInput) _sweeps++; else _events++;
        _outcomes[r.Outcome] = _outcomes.GetValueOrDefault(r.Outcome) + 1;
        if (r.RejectionCode is not null || (r.Event is null && r.Outcome == Outcome.Rejected))
        {
            var (file, line) = SplitInput(r.Input);
            _rejected.Add(new RejectedInput(file, line, r.RejectionCode, r.Reason));
        }
        TrackLineage(r);

        var (cluster, service) = Where(r);
        var index = _rows.Count;
        // Past the details budget most rows keep only their columns: their strings are then not built at all.
        var keep = _rows.KeepsDetails(r.Outcome);
        var operations = r.Actions.Count switch
        {
            0 => null,
            1 => r.Actions[0].Action.Operation,
            _ => string.Join("+", r.Actions.Select(a => a.Action.Operation)),
        };
        var row = new DecisionRow
        {
            Index = index,
            Time = r.Time,
            Trigger = r.Trigger,
            Event = keep ? r.Summary ?? (r.Event is null ? Path.GetFileName(SplitInput(r.Input).File) : r.DetailType) : null,
            EventId = r.EventId,
            DetailType = r.DetailType,
            Handler = r.Handler,
            Outcome = r.Outcome,
            Reason = r.Reason,
            Code = r.Code,
            Cluster = cluster,
            Service = service,
            Input = r.Input,
            DueAt = r.DueAt,
            RejectionCode = r.RejectionCode,
            Actions = keep ? [.. r.Actions.Select(a => new ActionRow(a.Action.Service, a.Action.Operation, a.Status, a.Detail, Describe.Result(a), ""))] : [],
        };
        _rows.Add(row, keep ? (w, i) => ActionJson.Write(w, r.Actions[i].Action.Request) : null, operations);
        if (service is null && r.Event?.Detail is AlarmStateChange alarm) _alarmRows.Add((index, _alarmNames.Index(alarm.AlarmName)));
    }

    private void StartWindow()
    {
        _windowStarted = true;
        foreach (var t in _services.Values) t.AtStart = t.Current;
    }

    private void TrackAlarm(ReplayRecord r, bool shown)
    {
        if (r.Event?.Detail is not AlarmStateChange a || r.Trigger != "event") return;
        foreach (var action in r.Actions)
            if (action.Action.Request is UpdateServiceRequest { DesiredCount: not null } u)
                _alarmOwner[a.AlarmName] = (Arns.ClusterName(u.Cluster), Arns.ServiceName(u.Service));
        if (!shown) return;
        // The same transition delivered twice is one transition.
        var alarm = _alarmNames.Index(a.AlarmName);
        var state = (byte)_states.Index(a.State.Value);
        if (_seenTransitions.Add((alarm, (a.State.Timestamp ?? r.Time)?.UtcTicks ?? 0, state)))
            _alarmTransitions.Add(((r.Time ?? a.State.Timestamp ?? DateTimeOffset.MinValue).UtcTicks, alarm, state, (byte)_states.Index(a.PreviousState?.Value)));
    }

    private void TrackAction(ReplayRecord r, ReflexAction action, bool shown)
    {
        switch (action.Request)
        {
            case UpdateServiceRequest u:
                if (u.DesiredCount is { } desired)
                {
                    var track = Track(u.Cluster, u.Service);
                    var before = track.Current;
                    track.Current = desired;
                    track.Changed = true;
                    if (shown)
                    {
                        _scaleChanges++;
                        if (r.Time is { } t) track.Changes.Add((t.UtcTicks, before ?? -1, desired));
                    }
                }
                if (shown && (u.PlacementConstraints is not null || u.PlacementStrategy is not null)) _placementChanges++;
                break;
            case RunTaskRequest run when shown:
                _relaunchCount++;
                if (r.Time is { } at)
                {
                    var name = Arns.ClusterName(run.Cluster);
                    if (!_relaunches.TryGetValue(name, out var rt)) _relaunches[name] = rt = new RelaunchTrack(run.Cluster);
                    var minute = TimeBuckets.Floor(at, TimeSpan.FromMinutes(1));
                    rt.PerMinute[minute] = rt.PerMinute.GetValueOrDefault(minute) + run.Count;
                }
                break;
            case StopTaskRequest when shown:
                _stops++;
                break;
            case GiveUpRequest when shown:
                _giveUps++;
                break;
        }
    }

    private void TrackLineage(ReplayRecord r)
    {
        if (r.Time is not { } time) return;
        // Labels name the decision's code, not its reason: lineages outside the busiest are made and forgotten by the
        // hundred thousand, and the reason is one click away in the table.
        if (r.Event?.Detail is TaskStateChange { LastStatus: "STOPPED" } task && r.Outcome != Outcome.Ignored)
        {
            var lineage = TaskRescheduler.TryParseLineage(task.StartedBy, out var l, out _) ? l : task.TaskId;
            var key = (Arns.ClusterName(task.ClusterArn), lineage);
            if (r.Trigger == "event")
                Lane(key, time).Add(new LaneMark(time, null, LaneMarkKind.Failure, 1, $"{Time(time)} task {Describe.Short(task.TaskId)} stopped ({r.Code})"));
            if (r.Outcome == Outcome.Deferred && r.DueAt is { } due)
                Lane(key, time).Add(new LaneMark(time, due, LaneMarkKind.Wait, 1, $"{Time(time)} → {Time(due)} waiting ({r.Code})"));
        }
        foreach (var a in r.Actions)
        {
            if (!a.Done) continue;
            switch (a.Action.Request)
            {
                case RunTaskRequest run when TaskRescheduler.TryParseLineage(run.StartedBy, out var l, out var attempt):
                    Lane((Arns.ClusterName(run.Cluster), l), time).Add(new LaneMark(time, null, LaneMarkKind.Relaunch, 1,
                        $"{Time(time)} relaunched as {run.StartedBy} (attempt {attempt}){(a.Detail is null ? "" : $": {a.Detail}")}"));
                    break;
                case GiveUpRequest g:
                    Lane((Arns.ClusterName(g.Cluster), g.Lineage), time).Add(new LaneMark(time, null, LaneMarkKind.GiveUp, 1,
                        $"{Time(time)} gave up after attempt {g.Attempt} of {g.MaxAttempts}: {g.Reason}"));
                    break;
            }
        }
    }

    private List<LaneMark> Lane((string, string) key, DateTimeOffset time)
    {
        if (!_lanes.TryGetValue(key, out var track))
        {
            if (_lanes.Count >= LineageWorkingSet) Forget(time);
            _lanes[key] = track = new LaneTrack();
            _forgottenLineages.Remove(Hash(key)); // back again: counted once, as a followed lineage
        }
        if (time > track.Last) track.Last = time;
        return track.Marks;
    }

    private static ulong Hash((string Cluster, string Lineage) key)
    {
        var h = 14695981039346656037UL; // FNV-1a, 64 bits
        foreach (var c in key.Cluster) h = (h ^ c) * 1099511628211UL;
        h = (h ^ '\n') * 1099511628211UL;
        foreach (var c in key.Lineage) h = (h ^ c) * 1099511628211UL;
        return h;
    }

    /// <summary>
    /// Keeps the lineages followed bounded: past <see cref="LineageWorkingSet"/>, forgets those outside the
    /// <see cref="MaxLanes"/> busiest (all that is drawn) that were quiet for an hour (a back-off is at most minutes,
    /// so they are done), or, when too many are active at once, the quietest half of them. A forgotten lineage still
    /// counts in <see cref="ReportModel.LineagesTotal"/>; one that comes back starts its marks again.
    /// </summary>
    private void Forget(DateTimeOffset now)
    {
        // The busiest, as BuildLanes orders them, are never forgotten.
        var rest = _lanes
            .OrderByDescending(kv => kv.Value.Marks.Count)
            .ThenBy(kv => kv.Value.Marks.Count > 0 ? kv.Value.Marks[0].Time : kv.Value.Last)
            .ThenBy(kv => kv.Key.Lineage, StringComparer.Ordinal)
            .Skip(MaxLanes)
            .ToList();
        var quiet = now - TimeSpan.FromHours(1);
        var forget = rest.Where(kv => kv.Value.Last < quiet).ToList();
        // Still full (many lineages active at once): the quietest half of the rest goes too.
        if (_lanes.Count - forget.Count >= LineageWorkingSet * 3 / 4)
            forget = [.. rest.OrderBy(kv => kv.Value.Last).Take(Math.Max(forget.Count, rest.Count / 2))];
        foreach (var (key, _) in forget)
        {
            _lanes.Remove(key);
            _forgottenLineages.Add(Hash(key));
        }
    }

    /// <summary>The cluster and service a record is about, for the table's filters.</summary>
    public static (string? Cluster, string? Service) Where(ReplayRecord r)
    {
        string? cluster = null, service = null;
        switch (r.Event?.Detail)
        {
            case TaskStateChange t:
                cluster = t.ClusterArn;
                if (t.Group is { } g && g.StartsWith("service:", StringComparison.Ordinal)) service = g["service:".Length..];
                break;
            case ContainerInstanceStateChange i:
                cluster = i.ClusterArn;
                break;
            case ServiceAction s:
                cluster = s.ClusterArn;
                service = s.ServiceArn;
                break;
            case DeploymentStateChange d:
                cluster = d.ClusterArn;
                service = d.ServiceArn;
                break;
        }
        foreach (var a in r.Actions)
        {
            switch (a.Action.Request)
            {
                case RunTaskRequest run: cluster ??= run.Cluster; break;
                case StopTaskRequest stop: cluster ??= stop.Cluster; break;
                case UpdateServiceRequest u: cluster ??= u.Cluster; service ??= u.Service; break;
                case GiveUpRequest g: cluster ??= g.Cluster; break;
            }
        }
        return (cluster is null ? null : Arns.ClusterName(cluster), service is null ? null : Arns.ServiceName(service));
    }

    /// <summary>
    /// Splits an input label into the file and the line: <c>events/burst.jsonl:12</c>, and for a JSON syntax error
    /// <c>events/burst.jsonl:12:7</c> or <c>events/x.json:6:3</c> (line, then column).
    /// </summary>
    public static (string File, int? Line) SplitInput(string input)
    {
        if (TrailingNumber(input) is not (var rest, var last)) return (input, null);
        return TrailingNumber(rest) is (var file, var line) ? (file, line) : (rest, last);
    }

    private static (string Before, int Number)? TrailingNumber(string input)
    {
        var colon = input.LastIndexOf(':');
        if (colon > 0 && colon < input.Length - 1
            && int.TryParse(input.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            return (input[..colon], n);
        return null;
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public ReportModel Build()
    {
        if (!_windowStarted) StartWindow();
        var start = _window.From ?? _first;
        var end = _window.To ?? _last;
        if (start is { } s0 && end is { } e0 && e0 < s0) end = start;
        var lanes = BuildLanes(start, end);

        return new ReportModel
        {
            PolicyFile = _policyFile,
            Inputs = _inputs,
            Window = _window,
            Start = start,
            End = end,
            Summary = new ReportSummary
            {
                Events = _events,
                Timers = _timers,
                Sweeps = _sweeps,
                Outcomes = new Dictionary<Outcome, int>(_outcomes),
                Relaunches = _relaunchCount,
                GiveUps = _giveUps,
                ScaleChanges = _scaleChanges,
                PlacementChanges = _placementChanges,
                TasksStopped = _stops,
                RejectedInputs = _rejected.Count,
            },
            ScaledServices = BuildSeries(start, end),
            Relaunches = BuildRelaunches(start, end),
            Lanes = lanes,
            LaneGroups = GroupLanes(lanes, start, end),
            LineagesTotal = _lanes.Count + _forgottenLineages.Count,
            Decisions = BuildRows(),
            RejectedInputs = _rejected,
        };
    }

    private DecisionLog BuildRows()
    {
        foreach (var (i, alarm) in _alarmRows)
            if (_alarmOwner.TryGetValue(_alarmNames[alarm]!, out var owner))
                _rows.SetService(i, owner.Service, owner.Cluster);
        _alarmRows.Clear();
        return _rows;
    }

    private List<ScaledServiceSeries> BuildSeries(DateTimeOffset? start, DateTimeOffset? end)
    {
        var list = new List<ScaledServiceSeries>();
        if (start is not { } s || end is not { } e) return list;
        var split = Episodes.ShouldSplit(start, end);
        foreach (var ((cluster, service), track) in _services.OrderBy(k => k.Key.Cluster, StringComparer.Ordinal).ThenBy(k => k.Key.Service, StringComparer.Ordinal))
        {
            if (!track.Declared && !track.Changed) continue;
            var marks = _alarmTransitions
                .Where(x => _alarmOwner.TryGetValue(_alarmNames[x.Alarm]!, out var o) && o == (cluster, service))
                .Select(x => new AlarmMark(new DateTimeOffset(x.Ticks, TimeSpan.Zero), _alarmNames[x.Alarm]!, _states[x.State] ?? "?", _states[x.Previous], null))
                .OrderBy(m => m.Time)
                .ToList();
            // Episodes of activity, each on an axis of its own, never outside the period: the changes (alarms that drive
            // a service often flap all along; they are drawn inside the episodes), or the alarm transitions when
            // nothing changed.
            var times = (track.Changes.Count > 0 ? track.Changes.Select(c => new DateTimeOffset(c.Ticks, TimeSpan.Zero)) : marks.Select(m => m.Time)).Order().ToList();
            var ranges = split && times.Count > 0
                ? Episodes.Split(times, t => t, t => t, Episodes.Gap).Select(x =>
                {
                    var pad = Episodes.Pad(x.Start, x.End, TimeSpan.FromMinutes(2));
                    return (Start: Max(s, x.Start - pad), End: Min(e, x.End + pad));
                }).ToList()
                : [(s, e)];
            var episodes = new List<SeriesEpisode>();
            var value = track.AtStart;
            var changes = track.Changes;
            var next = 0;
            foreach (var (from, to) in ranges)
            {
                // The value carried into the episode: the last change before it.
                while (next < changes.Count && changes[next].Ticks < from.UtcTicks) value = changes[next++].Value;
                var points = new List<SeriesPoint>();
                if (value is { } v0)
                    points.Add(new SeriesPoint(from, v0, v0, v0, 1, $"{Time(from)} desired {v0} {(from == s ? "at the start of the period" : "before this episode")}"));
                var inside = 0;
                while (next < changes.Count && changes[next].Ticks <= to.UtcTicks)
                {
                    var c = changes[next++];
                    var t = new DateTimeOffset(c.Ticks, TimeSpan.Zero);
                    points.Add(new SeriesPoint(t, c.Value, c.Value, c.Value, 1, $"{Time(t)} desired {(c.Before >= 0 ? c.Before.ToString(CultureInfo.InvariantCulture) : "?")} → {c.Value}"));
                    value = c.Value;
                    inside++;
                }
                var bucket = TimeSpan.Zero;
                if (inside > MaxSeriesPoints)
                {
                    bucket = TimeBuckets.Choose(to - from, MaxSeriesPoints, TimeSpan.FromSeconds(1));
                    points = MergePoints(points, bucket);
                }
                var alarms = marks.Where(m => m.Time >= from && m.Time <= to).ToList();
                if (alarms.Count > MaxAlarmMarks)
                    alarms = MergeAlarms(alarms, TimeBuckets.Choose(to - from, MaxAlarmMarks, TimeSpan.FromSeconds(1)));
                episodes.Add(new SeriesEpisode(from, to, bucket, points, alarms));
            }
            list.Add(new ScaledServiceSeries
            {
                Cluster = cluster, Service = service, Min = track.Min, Max = track.Max,
                Episodes = episodes, Changes = track.Changes.Count, AlarmTransitions = marks.Count,
            });
        }
        return list;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>Merges alarm transitions per bucket into one mark that counts them by state.</summary>
    public static List<AlarmMark> MergeAlarms(IReadOnlyList<AlarmMark> marks, TimeSpan bucket) =>
        [.. marks.GroupBy(m => TimeBuckets.Floor(m.Time, bucket)).Select(g =>
        {
            var items = g.ToList();
            if (items.Count == 1) return items[0];
            var names = items.Select(m => m.Alarm).Distinct(StringComparer.Ordinal).ToList();
            return new AlarmMark(items[0].Time, names.Count == 1 ? names[0] : $"{names.Count} alarms", items[^1].State, items[0].PreviousState, null)
            {
                Merged = items.Count,
                ToAlarm = items.Count(m => m.State == "ALARM"),
                ToOk = items.Count(m => m.State == "OK"),
                ToInsufficient = items.Count(m => m.State == "INSUFFICIENT_DATA"),
            };
        })];

    /// <summary>Merges points per bucket: the last value of the bucket, with the range it went through.</summary>
    public static List<SeriesPoint> MergePoints(IReadOnlyList<SeriesPoint> points, TimeSpan bucket)
    {
        var merged = new List<SeriesPoint>();
        foreach (var group in points.GroupBy(p => TimeBuckets.Floor(p.Time, bucket)))
        {
            var items = group.ToList();
            var last = items[^1];
            merged.Add(items.Count == 1 ? last : new SeriesPoint(items[0].Time, last.Value,
                items.Min(p => p.Low), items.Max(p => p.High), items.Sum(p => p.Merged),
                $"{Time(items[0].Time)} – {Time(last.Time)}: {items.Sum(p => p.Merged)} changes between {items.Min(p => p.Low)} and {items.Max(p => p.High)}, ending at {last.Value}"));
        }
        return merged;
    }

    private List<RelaunchSeries> BuildRelaunches(DateTimeOffset? start, DateTimeOffset? end)
    {
        var list = new List<RelaunchSeries>();
        if (start is not { } s || end is not { } e) return list;
        var split = Episodes.ShouldSplit(start, end);
        var minute = TimeSpan.FromMinutes(1);
        foreach (var (cluster, track) in _relaunches.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var episodes = split
                ? Episodes.Split(track.PerMinute, kv => kv.Key, kv => kv.Key + minute, Episodes.Gap)
                    .Select(x =>
                    {
                        // Padded so that bars at the ends show, but never outside the period.
                        var pad = Episodes.Pad(x.Start, x.End, TimeSpan.FromMinutes(2));
                        return (Start: Max(s, x.Start - pad), End: Min(e, x.End + pad), Items: x.Items);
                    })
                    .ToList()
                : [(s, e, track.PerMinute.ToList())];
            foreach (var (from, to, minutes) in episodes)
            {
                var bucket = TimeBuckets.Choose(to - from, MaxRelaunchBuckets, minute);
                var buckets = minutes
                    .GroupBy(kv => TimeBuckets.Floor(kv.Key, bucket))
                    .Select(g => new RelaunchBucket(g.Key, g.Sum(kv => kv.Value), g.Max(kv => kv.Value)))
                    .ToList();
                list.Add(new RelaunchSeries
                {
                    Cluster = cluster,
                    Start = from,
                    End = to,
                    LimitPerMinute = ReportPolicy.RelaunchLimit(_policy, track.ClusterAsWritten),
                    Bucket = bucket,
                    Buckets = buckets,
                    Total = buckets.Sum(b => b.Total),
                });
            }
        }
        return list;
    }

    private static List<LaneGroup> GroupLanes(IReadOnlyList<LineageLane> lanes, DateTimeOffset? start, DateTimeOffset? end)
    {
        if (lanes.Count == 0 || start is not { } s || end is not { } e) return [];
        if (!Episodes.ShouldSplit(start, end)) return [new LaneGroup(s, e, lanes)];
        return
        [
            .. LaneGroup.Of(lanes, Episodes.Gap).Select(g =>
            {
                var pad = Episodes.Pad(g.Start, g.End, TimeSpan.FromSeconds(5));
                return g with { Start = Max(s, g.Start - pad), End = Min(e, g.End + pad) };
            }),
        ];
    }

    private List<LineageLane> BuildLanes(DateTimeOffset? start, DateTimeOffset? end)
    {
        var span = start is { } s && end is { } e ? e - s : TimeSpan.Zero;
        return _lanes
            .Where(kv => kv.Value.Marks.Count > 0)
            .Select(kv => new KeyValuePair<(string Cluster, string Lineage), List<LaneMark>>(kv.Key, kv.Value.Marks))
            .OrderByDescending(kv => kv.Value.Count)
            .ThenBy(kv => kv.Value[0].Time)
            .ThenBy(kv => kv.Key.Lineage, StringComparer.Ordinal)
            .Take(MaxLanes)
            .OrderBy(kv => kv.Value[0].Time)
            .ThenBy(kv => kv.Key.Lineage, StringComparer.Ordinal)
            .Select(kv => new LineageLane
            {
                Cluster = kv.Key.Cluster,
                Lineage = kv.Key.Lineage,
                Marks = kv.Value.Count > MaxLaneMarks ? MergeMarks(kv.Value, TimeBuckets.Choose(span, MaxLaneMarks / 4, TimeSpan.FromSeconds(1))) : kv.Value,
            })
            .ToList();
    }

    /// <summary>Merges marks of one kind per bucket into one mark that counts them.</summary>
    public static List<LaneMark> MergeMarks(IReadOnlyList<LaneMark> marks, TimeSpan bucket) =>
        marks.GroupBy(m => (m.Kind, TimeBuckets.Floor(m.Time, bucket)))
            .Select(g =>
            {
                var items = g.ToList();
                if (items.Count == 1) return items[0];
                var until = items.Max(m => m.Until);
                var n = items.Sum(m => m.Merged);
                return new LaneMark(items[0].Time, until, g.Key.Kind, n, $"{n} × {items[0].Label}");
            })
            .OrderBy(m => m.Time)
            .ToList();
}
