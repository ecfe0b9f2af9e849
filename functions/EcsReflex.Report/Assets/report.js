// The script of a reflex report: the charts (uPlot, from the aggregated series in the reflex-data block) and the
// decisions table (filters, sort by time, pages of 100 rows, rows that expand to the exact requests), read from the
// compact form of the decisions: gzipped columns and details in base64 (DecisionLog.cs writes them). Writes text only
// (never HTML) into the page.
(function () {
  "use strict";
  var PAGE = 100;
  var data = JSON.parse(document.getElementById("reflex-data").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var report = window.reflexReport = { data: data, charts: [], readyAt: null, chartsAt: null };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // Text with a break opportunity after "_", "/", ":", "," and "." (SERVICE_DEPLOYMENT_IN_PROGRESS, ARNs), so that
  // long tokens wrap where a reader expects and never mid-word.
  function wrapText(node, text) {
    text = text === undefined || text === null ? "" : String(text);
    var parts = text.split(/(?<=[_\/:,.])(?=\S)/);
    for (var i = 0; i < parts.length; i++) {
      if (i > 0) node.appendChild(document.createElement("wbr"));
      node.appendChild(document.createTextNode(parts[i]));
    }
    return node;
  }

  function fmt(sec, withDate) {
    var d = new Date(sec * 1000).toISOString();
    return withDate ? d.slice(0, 19).replace("T", " ") : d.slice(11, 19);
  }

  // ---------------------------------------------------------------- charts (uPlot)

  var COLORS = { ALARM: "#d12f2f", OK: "#1f8a4c", INSUFFICIENT_DATA: "#8a8f98" };

  function hline(u, value, cls, testId, label) {
    var line = el("div", "ref-line " + cls);
    line.setAttribute("data-testid", testId);
    line.dataset.value = value;
    line.appendChild(el("span", "ref-label", label));
    u.over.appendChild(line);
    return function () {
      var y = u.valToPos(value, "y");
      var inside = y >= 0 && y <= u.over.clientHeight;
      line.style.top = y + "px";
      line.style.display = inside ? "" : "none";
    };
  }

  function placeMarks(u, marks) {
    // Labels on three rows, each placed only where it does not overlap the previous label of its row.
    var ends = [-1e9, -1e9, -1e9];
    marks.forEach(function (m) {
      var x = u.valToPos(m.t, "x");
      var visible = x >= 0 && x <= u.over.clientWidth;
      m.node.style.display = visible ? "" : "none";
      m.node.style.left = x + "px";
      m.label.style.display = "none";
      if (!visible || m.merged) return;
      for (var row = 0; row < 3; row++) {
        if (x > ends[row] + 6) {
          m.label.style.display = "";
          m.label.style.top = (2 + row * 15) + "px";
          ends[row] = x + m.label.offsetWidth;
          break;
        }
      }
    });
  }

  // Axis labels in UTC, 24-hour, ISO order: HH:mm (HH:mm:ss when ticks are seconds apart), with the date
  // (MM-DD) on the first tick and where the day changes.
  function timeLabels(u, splits, axisIdx, space, incr) {
    var lastDay = null;
    return splits.map(function (s) {
      var iso = new Date(s * 1000).toISOString();
      var day = iso.slice(5, 10);
      var clock = incr < 60 ? iso.slice(11, 19) : iso.slice(11, 16);
      var label = incr >= 86400 ? day : (day !== lastDay ? clock + "\n" + day : clock);
      lastDay = day;
      return label;
    });
  }

  function opts(width, height, extra) {
    var o = {
      width: width, height: height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: true }, points: { show: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: "#5b6473", grid: { stroke: "#eef0f4" }, ticks: { stroke: "#d9dee6" }, space: 70, values: timeLabels },
        { stroke: "#5b6473", grid: { stroke: "#eef0f4" }, ticks: { stroke: "#d9dee6" }, size: 44 },
      ],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      hooks: {},
    };
    for (var k in extra) o[k] = extra[k];
    return o;
  }

  function desiredChart(host, series, episode) {
    var p = episode.points;
    var start = Date.parse(episode.start) / 1000, end = Date.parse(episode.end) / 1000;
    // The step line runs on to the end of the episode at its last value.
    var xs = p.t.slice(), vs = p.v.slice(), los = p.lo.slice(), his = p.hi.slice();
    if (xs.length && xs[xs.length - 1] < end) { xs.push(end); vs.push(vs[vs.length - 1]); los.push(null); his.push(null); }
    var merged = p.n.some(function (n) { return n > 1; });
    var low = series.low, high = series.high;
    if (low === null || high === null) { low = 0; high = 1; }
    // The y axis is fitted to the data (whole numbers, a little room), never stretched to the policy's min/max.
    var pad = Math.max(1, Math.ceil((high - low) * 0.15));
    var yMin = Math.max(0, low - pad), yMax = high + pad;
    var marks = [];
    var refresh = [];
    var u = new uPlot(opts(host.clientWidth || 900, 210, {
      scales: { x: { time: true, min: start, max: end }, y: { range: function () { return [yMin, yMax]; } } },
      series: [
        {},
        { label: "desired", stroke: "#2457c5", width: 2, paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: p.t.length <= 120, size: 7, stroke: "#2457c5", fill: "#fff" } },
        { label: "low", stroke: "rgba(36,87,197,.25)", width: merged ? 1 : 0, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
        { label: "high", stroke: "rgba(36,87,197,.25)", width: merged ? 1 : 0, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
      ],
      bands: merged ? [{ series: [3, 2], fill: "rgba(36,87,197,.12)" }] : [],
      axes: opts(0, 0, {}).axes.map(function (a, i) {
        if (i === 1) { a.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]; a.label = "desired count"; a.labelSize = 18; a.size = 50; }
        return a;
      }),
      hooks: {
        draw: [function (u) { refresh.forEach(function (f) { f(); }); placeMarks(u, marks); }],
      },
    }), [xs, vs, los, his], host);
    if (series.min !== null) refresh.push(hline(u, series.min, "bound", "line-min", "min " + series.min));
    if (series.max !== null) refresh.push(hline(u, series.max, "bound", "line-max", "max " + series.max));
    episode.alarms.forEach(function (a) {
      // A merged mark (several transitions in one bucket) is a short tick along the top, its counts in its tooltip:
      // dense alarms must not become a wall of lines over the count.
      var node = el("div", "alarm-mark state-" + a.state + (a.n > 1 ? " merged" : ""));
      node.setAttribute("data-testid", "alarm-mark");
      node.dataset.state = a.state;
      node.dataset.alarm = a.alarm;
      node.dataset.merged = a.n;
      node.title = fmt(a.t, true) + " UTC · " + a.label + (a.previous && a.n === 1 ? " (from " + a.previous + ")" : "");
      node.style.setProperty("--mark", COLORS[a.state] || "#555");
      var label = el("span", "alarm-label", a.n > 1 ? String(a.n) : a.label);
      node.appendChild(label);
      u.over.appendChild(node);
      marks.push({ t: a.t, node: node, label: label, merged: a.n > 1 });
    });
    // What lies outside the fitted axis is said, not drawn: a max of 40 would flatten 4 → 5 → 6.
    var off = [];
    if (series.min !== null && series.min < yMin) off.push("min " + series.min + " below");
    if (series.max !== null && series.max > yMax) off.push("max " + series.max + " above");
    if (off.length) { var note = el("span", "off-axis", off.join(" · ")); note.setAttribute("data-testid", "bounds-off-axis"); u.over.appendChild(note); }
    refresh.forEach(function (f) { f(); });
    placeMarks(u, marks);
    report.charts.push({ kind: "desired", cluster: series.cluster, service: series.service, values: p.v.slice(), times: p.t.slice(), merged: p.n.slice(), plot: u });
    return u;
  }

  function relaunchChart(host, r) {
    var b = r.buckets;
    var start = Date.parse(r.start) / 1000, end = Date.parse(r.end) / 1000;
    var peak = b.peak.reduce(function (m, v) { return Math.max(m, v); }, 0);
    var yMax = Math.max(peak, r.limitPerMinute);
    yMax += Math.max(1, Math.ceil(yMax * 0.12));
    var normal = b.peak.map(function (v) { return v >= r.limitPerMinute ? null : v; });
    var atLimit = b.peak.map(function (v) { return v >= r.limitPerMinute ? v : null; });
    var refresh = [];
    var barSize = Math.max(0.6, Math.min(0.9, 1 - 1 / Math.max(2, b.t.length)));
    var u = new uPlot(opts(host.clientWidth || 900, 150, {
      scales: { x: { time: true, min: start, max: end + r.bucketSeconds }, y: { range: function () { return [0, yMax]; } } },
      series: [
        {},
        { label: "relaunches", fill: "#6c8fd9", stroke: "#6c8fd9", width: 0, paths: uPlot.paths.bars({ size: [barSize, 24, 2], align: 1 }), points: { show: false } },
        { label: "at the limit", fill: "#d9822b", stroke: "#d9822b", width: 0, paths: uPlot.paths.bars({ size: [barSize, 24, 2], align: 1 }), points: { show: false } },
      ],
      axes: opts(0, 0, {}).axes.map(function (a, i) {
        if (i === 1) { a.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500]; a.label = "per minute"; a.labelSize = 18; a.size = 50; }
        return a;
      }),
      hooks: { draw: [function () { refresh.forEach(function (f) { f(); }); }] },
    }), [b.t, normal, atLimit], host);
    refresh.push(hline(u, r.limitPerMinute, "limit", "rate-limit-line", "limit " + r.limitPerMinute + "/min"));
    refresh.forEach(function (f) { f(); });
    report.charts.push({ kind: "relaunches", cluster: r.cluster, start: start, end: end, times: b.t.slice(), peaks: b.peak.slice(), plot: u });
    return u;
  }

  function drawCharts() {
    if (typeof uPlot === "undefined") return;
    Array.prototype.forEach.call(document.querySelectorAll(".uchart"), function (host) {
      var i = Number(host.dataset.series);
      if (host.dataset.kind === "desired") {
        var s = data.scaledServices[i];
        desiredChart(host, s, s.episodes[Number(host.dataset.episode)]);
      } else {
        relaunchChart(host, data.relaunches[i]);
      }
    });
    var resizeTimer = 0;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        report.charts.forEach(function (c) { var w = c.plot.root.parentNode.clientWidth; if (w) c.plot.setSize({ width: w, height: c.plot.height }); });
      }, 100);
    });
    report.chartsAt = performance.now();
    document.documentElement.setAttribute("data-charts", "true");
  }

  // ---------------------------------------------------------------- the decisions, from their compact form

  function base64(id) {
    var text = document.getElementById(id).textContent.trim();
    var bin = atob(text);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  function gunzip(bytes) {
    if (bytes.length === 0) return Promise.resolve(new Uint8Array(0));
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); });
  }

  var KIND = { trigger: 0, outcome: 1, detailType: 2, handler: 3, code: 4, cluster: 5, service: 6, ops: 7 };

  function Decisions(d, columns, heap) {
    var n = d.count;
    this.count = n;
    this.tables = d.tables;
    this.kinds = d.kinds;
    this.heap = heap;
    this.withoutDetails = d.withoutDetails;
    var at = {};
    d.layout.forEach(function (l) { at[l[0]] = l[2]; });
    var kindType = d.layout.filter(function (l) { return l[0] === "kind"; })[0][1];
    this.kind = kindType === "u8" ? new Uint8Array(columns.buffer, columns.byteOffset + at.kind, n) : new Uint16Array(columns.buffer, columns.byteOffset + at.kind, n);
    // Times in Unix milliseconds (NaN: none), and where each row's details start in the heap: both from varints.
    var t = this.time = new Float64Array(n);
    var start = this.start = new Float64Array(n + 1);
    var p = at.dsec, q = at.len, sec = d.epoch;
    for (var i = 0; i < n; i++) {
      var z = 0, shift = 1, b;
      do { b = columns[p++]; z += (b & 127) * shift; shift *= 128; } while (b >= 128);
      if (z === 0) t[i] = NaN;
      else { z -= 1; sec += (z % 2 === 1) ? -(z + 1) / 2 : z / 2; t[i] = sec * 1000; } // whole seconds: the table shows no more
      var len = 0; shift = 1;
      do { b = columns[q++]; len += (b & 127) * shift; shift *= 128; } while (b >= 128);
      start[i + 1] = start[i] + len;
    }
    // Rows in time order (stable: replay order breaks ties); rows without a time come first.
    var order = this.order = new Uint32Array(n);
    var sorted = true, prev = -Infinity;
    for (i = 0; i < n; i++) {
      order[i] = i;
      var k = isNaN(t[i]) ? -Infinity : t[i];
      if (k < prev) sorted = false;
      prev = k;
    }
    if (!sorted) {
      var keys = Array.from(order);
      keys.sort(function (a, b) {
        var ta = isNaN(t[a]) ? -Infinity : t[a], tb = isNaN(t[b]) ? -Infinity : t[b];
        return ta < tb ? -1 : ta > tb ? 1 : a - b;
      });
      order.set(keys);
    }
    this.decoder = new TextDecoder("utf-8");
    this.lower = null;
  }

  /// The value of a table (handler, outcome…) for row i.
  Decisions.prototype.value = function (table, i) { return this.tables[table][this.kinds[this.kind[i]][KIND[table]]]; };

  /// A flag per kind: true where the kind's value of <table> is one of <values> (a Uint8Array over the table).
  Decisions.prototype.kindsWhere = function (table, match) {
    var out = new Uint8Array(this.kinds.length), pos = KIND[table];
    for (var k = 0; k < this.kinds.length; k++) out[k] = match[this.kinds[k][pos]] ? 1 : 0;
    return out;
  };

  Decisions.prototype.detail = function (i) {
    var a = this.start[i], b = this.start[i + 1];
    if (a === b) return null;
    var e = JSON.parse(this.decoder.decode(this.heap.subarray(a, b)));
    return { event: e[0], id: e[1], input: e[2], reason: e[3], due: e[4], rejection: e[5],
      actions: e[6].map(function (x) { return { service: x[0], op: x[1], status: x[2], detail: x[3], summary: x[4], request: x[5] }; }) };
  };

  // Free text: every row whose details (the event, its id, the input, the reason, the requests as JSON) or whose
  // handler, code, detail type, cluster, service or operations contain the text, ignoring ASCII case. The details are
  // searched as one string of bytes (windows-1252 maps a byte to one character), so a match's position is its byte.
  Decisions.prototype.search = function (q) {
    var n = this.count, hit = new Uint8Array(n);
    var self = this, kindHit = new Uint8Array(this.kinds.length), anyKind = false;
    ["handler", "code", "detailType", "cluster", "service", "ops"].forEach(function (name) {
      var table = self.tables[name], match = new Uint8Array(table.length);
      for (var k = 1; k < table.length; k++) if (table[k] !== null && table[k].toLowerCase().indexOf(q) >= 0) match[k] = 1;
      var where = self.kindsWhere(name, match);
      for (k = 0; k < where.length; k++) if (where[k]) { kindHit[k] = 1; anyKind = true; }
    });
    if (anyKind) for (var i = 0; i < n; i++) if (kindHit[this.kind[i]]) hit[i] = 1;
    if (!this.lower) {
      var bytes = new Uint8Array(this.heap);
      for (var j = 0; j < bytes.length; j++) { var c = bytes[j]; if (c >= 65 && c <= 90) bytes[j] = c + 32; }
      this.lower = new TextDecoder("windows-1252").decode(bytes);
    }
    var needle = new TextDecoder("windows-1252").decode(new TextEncoder().encode(q));
    var pos = this.lower.indexOf(needle), start = this.start, lo = 0;
    while (pos >= 0) {
      // The row holding this byte: the last row starting at or before it.
      var hi = n - 1;
      while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (start[mid] <= pos) lo = mid; else hi = mid - 1; }
      hit[lo] = 1;
      pos = this.lower.indexOf(needle, Math.max(pos + 1, start[lo + 1]));
    }
    return hit;
  };

  // ---------------------------------------------------------------- the table

  function table(dec) {
    var body = $("decisions-body");
    var filter = { outcome: "", handler: "", cluster: "", service: "", text: "" };
    var descending = false, page = 0, open = new Set(), shown = new Uint32Array(0);

    // Rows per kind, once: the filters' counts come from it.
    var perKind = new Float64Array(dec.kinds.length);
    for (var r = 0; r < dec.count; r++) perKind[dec.kind[r]]++;

    function options(id, name) {
      var counts = new Map(), values = dec.tables[name], pos = KIND[name];
      for (var k = 0; k < dec.kinds.length; k++) { var v = dec.kinds[k][pos]; counts.set(v, (counts.get(v) || 0) + perKind[k]); }
      var select = $(id);
      Array.from(counts.keys()).filter(function (k) { return values[k] !== null; })
        .sort(function (a, b) { return values[a] < values[b] ? -1 : 1; })
        .forEach(function (k) {
          var o = el("option", null, values[k] + " (" + counts.get(k).toLocaleString("en-US") + ")");
          o.value = values[k];
          select.appendChild(o);
        });
    }

    function apply() {
      var q = filter.text.trim().toLowerCase();
      var hit = q ? dec.search(q) : null;
      // The select filters become one flag per kind: a row passes when its kind does.
      var pass = new Uint8Array(dec.kinds.length).fill(1);
      ["outcome", "handler", "cluster", "service"].forEach(function (name) {
        if (!filter[name]) return;
        var match = new Uint8Array(dec.tables[name].length);
        match[dec.tables[name].indexOf(filter[name])] = 1;
        var where = dec.kindsWhere(name, match);
        for (var k = 0; k < pass.length; k++) pass[k] &= where[k];
      });
      var out = new Uint32Array(dec.count), m = 0, kind = dec.kind;
      for (var k = 0; k < dec.count; k++) {
        var i = dec.order[descending ? dec.count - 1 - k : k];
        if (!pass[kind[i]]) continue;
        if (hit && !hit[i]) continue;
        out[m++] = i;
      }
      shown = out.subarray(0, m);
      page = 0;
      render();
    }

    function time(ms) { return isNaN(ms) ? "—" : new Date(ms).toISOString().slice(0, 19).replace("T", " "); }

    function actionText(i, d) {
      if (d && d.actions.length) return d.actions.map(function (a) { return a.summary; }).join("; ");
      if (d && d.due) return "wait until " + time(Date.parse(d.due));
      return dec.value("ops", i) || "—";
    }

    function row(i) {
      var d = dec.detail(i);
      var tr = el("tr", "row");
      tr.tabIndex = 0;
      tr.setAttribute("data-testid", "decision-row");
      tr.dataset.n = i;
      var outcome = dec.value("outcome", i), trigger = dec.value("trigger", i);
      tr.dataset.outcome = outcome;
      tr.setAttribute("aria-expanded", open.has(i) ? "true" : "false");
      tr.appendChild(el("td", "c-time", time(dec.time[i])));
      var ev = wrapText(el("td", "c-event"), (trigger === "timer" ? "(due) " : "") + ((d && d.event) || dec.value("detailType", i) || ""));
      ev.title = (dec.value("detailType", i) || "") + (d && d.id ? " · " + d.id : "");
      tr.appendChild(ev);
      tr.appendChild(wrapText(el("td", "c-handler"), dec.value("handler", i) || "—"));
      var oc = el("td", "c-outcome");
      oc.appendChild(el("span", "badge o-" + outcome, outcome));
      tr.appendChild(oc);
      tr.appendChild(wrapText(el("td", "c-action"), actionText(i, d)));
      var reason = wrapText(el("td", "c-reason"), d ? d.reason : "");
      var code = dec.value("code", i);
      if (code) { reason.appendChild(document.createTextNode(" ")); reason.appendChild(el("code", "code", code)); }
      if (!d) reason.appendChild(el("span", "note", " (details not embedded: see the note above the table)"));
      tr.appendChild(reason);
      if (open.has(i)) tr.classList.add("open");
      return tr;
    }

    function detail(i) {
      var d = dec.detail(i);
      var tr = el("tr", "detail");
      tr.setAttribute("data-testid", "decision-detail");
      var td = el("td");
      td.colSpan = 6;
      var dl = el("dl");
      function add(k, v) { if (v === undefined || v === null || v === "") return; dl.appendChild(el("dt", null, k)); dl.appendChild(wrapText(el("dd"), v)); }
      var trigger = dec.value("trigger", i);
      if (d) { add("input", d.input); add("event id", d.id); }
      add("detail type", dec.value("detailType", i));
      add("trigger", trigger === "timer" ? "timer (deferred work that came due)" : trigger);
      add("cluster", dec.value("cluster", i));
      add("service", dec.value("service", i));
      add("code", dec.value("code", i));
      if (d) { add("due at", d.due ? time(Date.parse(d.due)) : null); add("rejection", d.rejection); add("reason", d.reason); }
      td.appendChild(dl);
      if (!d) {
        td.appendChild(el("p", "note", "The details of this decision were not embedded (the page keeps within its size budget). `reflex replay --format jsonl` prints them, or a report with --from/--to around this time embeds them."));
      } else if (d.actions.length) {
        d.actions.forEach(function (a) {
          td.appendChild(el("h4", null, a.service + " " + a.op + " — " + a.status + (a.detail ? " (" + a.detail + ")" : "")));
          var pre = el("pre", null, JSON.stringify(a.request, null, 2));
          pre.setAttribute("data-testid", "request-json");
          pre.dataset.operation = a.op;
          td.appendChild(pre);
        });
      } else {
        td.appendChild(el("p", "note", "No request: nothing was sent for this decision."));
      }
      tr.appendChild(td);
      return tr;
    }

    function render() {
      var pages = Math.max(1, Math.ceil(shown.length / PAGE));
      if (page >= pages) page = pages - 1;
      var from = page * PAGE, to = Math.min(shown.length, from + PAGE);
      var frag = document.createDocumentFragment();
      for (var k = from; k < to; k++) {
        var i = shown[k];
        frag.appendChild(row(i));
        if (open.has(i)) frag.appendChild(detail(i));
      }
      body.replaceChildren(frag);
      var count = $("row-count");
      count.textContent = shown.length === dec.count
        ? dec.count.toLocaleString("en-US") + " decisions"
        : shown.length.toLocaleString("en-US") + " of " + dec.count.toLocaleString("en-US") + " decisions";
      count.dataset.shown = shown.length;
      count.dataset.total = dec.count;
      $("page-info").textContent = shown.length === 0 ? "no rows" : "rows " + (from + 1) + "–" + to + " · page " + (page + 1) + " of " + pages;
      $("page-prev").disabled = page === 0;
      $("page-next").disabled = page >= pages - 1;
    }

    function toggle(tr) {
      var i = Number(tr.dataset.n);
      if (open.has(i)) open.delete(i); else open.add(i);
      render();
      var again = body.querySelector('tr.row[data-n="' + i + '"]');
      if (again) again.focus();
    }

    body.addEventListener("click", function (e) {
      if (e.target.closest("tr.detail")) return;
      var tr = e.target.closest("tr.row");
      if (tr) toggle(tr);
    });
    body.addEventListener("keydown", function (e) {
      var tr = e.target.closest && e.target.closest("tr.row");
      if (tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); toggle(tr); }
    });

    [["filter-outcome", "outcome"], ["filter-handler", "handler"], ["filter-cluster", "cluster"], ["filter-service", "service"]].forEach(function (f) {
      options(f[0], f[1]);
      $(f[0]).addEventListener("change", function (e) { filter[f[1]] = e.target.value; apply(); });
    });
    var timer = 0;
    $("filter-text").addEventListener("input", function (e) {
      clearTimeout(timer);
      var v = e.target.value;
      timer = setTimeout(function () { filter.text = v; apply(); }, 150);
    });
    $("filter-clear").addEventListener("click", function () {
      filter = { outcome: "", handler: "", cluster: "", service: "", text: "" };
      ["filter-outcome", "filter-handler", "filter-cluster", "filter-service", "filter-text"].forEach(function (id) { $(id).value = ""; });
      apply();
    });
    $("sort-time").addEventListener("click", function (e) {
      descending = !descending;
      e.currentTarget.textContent = descending ? "Time ▼" : "Time ▲";
      e.currentTarget.setAttribute("aria-sort", descending ? "descending" : "ascending");
      apply();
    });
    // Go to time: the page holding the first shown row at or after that time (before it, when sorted newest first).
    $("goto-time").addEventListener("change", function (e) {
      var text = e.target.value.trim().replace(" ", "T");
      if (!text) return;
      var at = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : text + (text.length <= 10 ? "T00:00:00Z" : "Z"));
      if (isNaN(at)) { e.target.setCustomValidity("a time such as 2026-03-03 02:30"); e.target.reportValidity(); return; }
      e.target.setCustomValidity("");
      var lo = 0, hi = shown.length;
      while (lo < hi) {
        var mid = (lo + hi) >> 1, t = dec.time[shown[mid]];
        var before = isNaN(t) || (descending ? t > at : t < at);
        if (before) lo = mid + 1; else hi = mid;
      }
      page = Math.floor(Math.min(lo, Math.max(0, shown.length - 1)) / PAGE);
      render();
      var first = body.querySelector('tr.row[data-n="' + shown[Math.min(lo, shown.length - 1)] + '"]');
      if (first) { first.classList.add("target"); first.scrollIntoView({ block: "nearest" }); }
    });
    $("page-prev").addEventListener("click", function () { if (page > 0) { page--; render(); } });
    $("page-next").addEventListener("click", function () { page++; render(); });

    Array.prototype.forEach.call(document.querySelectorAll("[data-filter-outcome]"), function (card) {
      function pick() {
        filter.outcome = card.getAttribute("data-filter-outcome");
        $("filter-outcome").value = filter.outcome;
        apply();
        $("decisions").scrollIntoView();
      }
      card.addEventListener("click", pick);
      card.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
    });

    if (dec.withoutDetails > 0) {
      var note = $("details-note");
      note.hidden = false;
      note.textContent = dec.withoutDetails.toLocaleString("en-US") + " of " + dec.count.toLocaleString("en-US") +
        " decisions are listed without their reason and requests: the page keeps their time, handler, outcome, code, cluster and service, " +
        "and stays within its size budget. `reflex replay --format jsonl` prints every decision in full, and a report narrowed with --from/--to embeds them.";
    }
    apply();
  }

  // Charts first (they need only the data block), then the table once the decisions are inflated.
  try { drawCharts(); } finally {
    var d = data.decisions;
    Promise.all([gunzip(base64("reflex-columns")), gunzip(base64("reflex-details"))]).then(function (parts) {
      var dec = report.decisions = new Decisions(d, parts[0], parts[1]);
      table(dec);
      report.readyAt = performance.now();
      document.documentElement.setAttribute("data-ready", "true");
    }).catch(function (e) {
      document.documentElement.setAttribute("data-ready", "error");
      $("row-count").textContent = "The decisions could not be read: " + e;
      throw e;
    });
  }
})();
