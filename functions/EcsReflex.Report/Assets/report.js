// The decisions table of a reflex report: filters, sort by time, pages of 100 rows, rows that expand to
// the exact requests. Reads the data from the reflex-data block; writes text only (never HTML) into the page.
(function () {
  "use strict";
  var PAGE = 100;
  var data = JSON.parse(document.getElementById("reflex-data").textContent);
  var rows = data.decisions;
  var $ = function (id) { return document.getElementById(id); };
  var body = $("decisions-body");
  var filter = { outcome: "", handler: "", cluster: "", service: "", text: "" };
  var descending = false;
  var page = 0;
  var open = new Set();
  var haystack = null;
  var shown = [];

  // Rows in time order (stable: replay order breaks ties); rows without a time come first.
  var byTime = rows.slice().sort(function (a, b) {
    var ta = a.t || "", tb = b.t || "";
    return ta < tb ? -1 : ta > tb ? 1 : a.n - b.n;
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function options(id, key) {
    var seen = new Set();
    for (var i = 0; i < rows.length; i++) if (rows[i][key]) seen.add(rows[i][key]);
    var select = $(id);
    Array.from(seen).sort().forEach(function (v) {
      var o = el("option", null, v);
      o.value = v;
      select.appendChild(o);
    });
  }

  function text(r) {
    var parts = [r.t, r.e, r.id, r.d, r.h, r.o, r.r, r.c, r.s, r.i, r.x];
    if (r.a) for (var i = 0; i < r.a.length; i++) parts.push(r.a[i].op, r.a[i].st, r.a[i].dt, r.a[i].sm, JSON.stringify(r.a[i].rq));
    return parts.filter(Boolean).join("\n").toLowerCase();
  }

  function apply() {
    var q = filter.text.trim().toLowerCase();
    if (q && !haystack) {
      haystack = new Array(rows.length);
      for (var k = 0; k < rows.length; k++) haystack[rows[k].n] = text(rows[k]);
    }
    var out = [];
    for (var i = 0; i < byTime.length; i++) {
      var r = byTime[i];
      if (filter.outcome && r.o !== filter.outcome) continue;
      if (filter.handler && r.h !== filter.handler) continue;
      if (filter.cluster && r.c !== filter.cluster) continue;
      if (filter.service && r.s !== filter.service) continue;
      if (q && haystack[r.n].indexOf(q) < 0) continue;
      out.push(r);
    }
    if (descending) out.reverse();
    shown = out;
    page = 0;
    render();
  }

  function time(t) { return t ? t.slice(0, 19).replace("T", " ") : "—"; }

  function actionText(r) {
    if (r.a && r.a.length) return r.a.map(function (a) { return a.sm + (a.st === "done" || a.st === "recorded" ? "" : " [" + a.st + "]"); }).join("; ");
    if (r.u) return "wait until " + time(r.u);
    return "—";
  }

  function row(r) {
    var tr = el("tr", "row");
    tr.tabIndex = 0;
    tr.setAttribute("data-testid", "decision-row");
    tr.dataset.n = r.n;
    tr.dataset.outcome = r.o;
    tr.setAttribute("aria-expanded", open.has(r.n) ? "true" : "false");
    tr.appendChild(el("td", "c-time", time(r.t)));
    var ev = el("td", "c-event", (r.g === "timer" ? "(due) " : "") + (r.e || ""));
    ev.title = (r.d || "") + (r.id ? " · " + r.id : "");
    tr.appendChild(ev);
    tr.appendChild(el("td", "c-handler", r.h || "—"));
    var oc = el("td", "c-outcome");
    oc.appendChild(el("span", "badge o-" + r.o, r.o));
    tr.appendChild(oc);
    tr.appendChild(el("td", "c-action", actionText(r)));
    tr.appendChild(el("td", "c-reason", r.r));
    if (open.has(r.n)) tr.classList.add("open");
    return tr;
  }

  function detail(r) {
    var tr = el("tr", "detail");
    tr.setAttribute("data-testid", "decision-detail");
    var td = el("td");
    td.colSpan = 6;
    var dl = el("dl");
    function add(k, v) { if (v === undefined || v === null || v === "") return; dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v)); }
    add("input", r.i);
    add("event id", r.id);
    add("detail type", r.d);
    add("trigger", r.g === "timer" ? "timer (deferred work that came due)" : r.g);
    add("cluster", r.c);
    add("service", r.s);
    add("due at", r.u ? time(r.u) : null);
    add("rejection", r.x);
    add("reason", r.r);
    td.appendChild(dl);
    if (r.a && r.a.length) {
      r.a.forEach(function (a) {
        td.appendChild(el("h4", null, a.v + " " + a.op + " — " + a.st + (a.dt ? " (" + a.dt + ")" : "")));
        var pre = el("pre", null, JSON.stringify(a.rq, null, 2));
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
    var from = page * PAGE;
    var slice = shown.slice(from, from + PAGE);
    var frag = document.createDocumentFragment();
    slice.forEach(function (r) {
      frag.appendChild(row(r));
      if (open.has(r.n)) frag.appendChild(detail(r));
    });
    body.replaceChildren(frag);
    var count = $("row-count");
    count.textContent = shown.length === rows.length
      ? rows.length.toLocaleString("en-US") + " decisions"
      : shown.length.toLocaleString("en-US") + " of " + rows.length.toLocaleString("en-US") + " decisions";
    count.dataset.shown = shown.length;
    count.dataset.total = rows.length;
    $("page-info").textContent = shown.length === 0 ? "no rows" : "rows " + (from + 1) + "–" + (from + slice.length) + " · page " + (page + 1) + " of " + pages;
    $("page-prev").disabled = page === 0;
    $("page-next").disabled = page >= pages - 1;
  }

  function toggle(tr) {
    var n = Number(tr.dataset.n);
    if (open.has(n)) open.delete(n); else open.add(n);
    render();
    var again = body.querySelector('tr.row[data-n="' + n + '"]');
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

  [["filter-outcome", "outcome", "o"], ["filter-handler", "handler", "h"], ["filter-cluster", "cluster", "c"], ["filter-service", "service", "s"]].forEach(function (f) {
    options(f[0], f[2]);
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

  apply();
  document.documentElement.setAttribute("data-ready", "true");
  window.reflexReport = { data: data, readyAt: performance.now() };
})();
