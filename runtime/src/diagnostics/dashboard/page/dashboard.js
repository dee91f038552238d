// The dagwood dashboard page: reads the event stream (/events), keeps a
// mirror of the server's state, and draws it. No libraries: it must work
// offline, served by the program itself.
"use strict";
(function () {
  // Tableau's 20 colours, as the profiler's timeline uses.
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d",
    "#499894", "#86bcb6", "#d37295", "#fabfd2", "#d4a6c8", "#79706e", "#bab0ac"];
  const MAX_BARS = 100000;
  const MAX_LAYERS = 300;
  const S = {
    names: [], rows: [], groups: [], graph: { layers: [], edges: [] }, bars: [],
    running: [], procs: [], busy: [], status: null, failure: null,
    offset: 0, received: 0, graphKey: "",
  };
  window.dagwood = S;

  const $ = (id) => document.getElementById(id);
  const colour = (name) => PALETTE[name % PALETTE.length];
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const now = () => performance.now() + S.offset;
  const fmtMs = (ms) => ms < 1000 ? ms.toFixed(0) + " ms" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  const fmtBytes = (b) => b >= 1e9 ? (b / 1e9).toFixed(2) + " GB" : (b / 1e6).toFixed(1) + " MB";

  function apply(m) {
    if (m.type === "snapshot") {
      S.names = []; S.rows = []; S.bars = []; S.groups = [];
      S.graph = { layers: [], edges: [] }; S.failure = null; S.received = 0;
    }
    m.names.forEach((n, i) => { S.names[m.names_from + i] = n; });
    m.rows.forEach((r, i) => { S.rows[m.rows_from + i] = r; });
    if (m.groups) S.groups = m.groups;
    if (m.graph) S.graph = m.graph;
    for (const b of m.bars) S.bars.push(b);
    S.received += m.bars.length;
    if (S.bars.length > MAX_BARS) S.bars.splice(0, S.bars.length - MAX_BARS);
    S.running = m.running; S.procs = m.procs; S.busy = m.busy; S.status = m.status;
    if ("failure" in m) S.failure = m.failure;
    S.offset = m.now - performance.now();
    renderStatus(); renderProgress(); renderWorkers(); renderGraph(); renderFailure(); drawStream();
  }

  function renderStatus() {
    const st = S.status;
    if (!st) return;
    const el = $("status");
    el.dataset.state = st.state;
    el.textContent = st.state === "waiting" ? "waiting for a computation" : st.state + (st.run ? " · run " + st.run : "");
    const o = $("overall");
    o.dataset.done = st.done; o.dataset.total = st.tasks; o.dataset.failed = st.failed;
    o.textContent = st.done.toLocaleString() + " / " + st.tasks.toLocaleString() + " tasks" +
      (st.failed ? " · " + st.failed + " failed" : "") +
      (st.computations ? " · " + st.computations + " computing" : "");
    if (st.run) {
      const end = st.ended === null ? now() : st.ended;
      $("elapsed").textContent = fmtMs(Math.max(0, end - st.started));
    }
  }

  function renderProgress() {
    const box = $("progress");
    if (!S.groups.length) return;
    let html = "";
    for (const [id, total, done, running, failed] of S.groups) {
      const name = S.names[id] || "?";
      const pct = (x) => total > 0 ? (100 * x / total).toFixed(2) + "%" : "0";
      const waiting = Math.max(0, total - done - running);
      html += '<div class="group" data-name="' + esc(name) + '" data-total="' + total +
        '" data-done="' + done + '" data-running="' + running + '" data-failed="' + failed +
        '" data-waiting="' + waiting + '">' +
        '<span class="gname" style="border-color:' + colour(id) + '" title="' + esc(name) + '">' + esc(name) + "</span>" +
        '<div class="gbar"><span style="width:' + pct(done - failed) + ";background:" + colour(id) + '"></span>' +
        '<span class="fail" style="width:' + pct(failed) + '"></span>' +
        '<span style="width:' + pct(running) + ";background:" + colour(id) + ';opacity:.45"></span></div>' +
        '<span class="gnum">' + done.toLocaleString() + " / " + total.toLocaleString() +
        (running ? " · " + running + " run" : "") + (failed ? " · " + failed + " failed" : "") + "</span></div>";
    }
    box.innerHTML = html;
  }

  function rowLabel(r) {
    const [p, w] = S.rows[r] || [0, r];
    const multi = S.procs.length > 1;
    return multi ? "p" + p + " w" + w : "worker " + w;
  }

  function rowOrder() {
    const order = S.rows.map((_, i) => i);
    order.sort((a, b) => (S.rows[a][0] - S.rows[b][0]) || (S.rows[a][1] - S.rows[b][1]));
    return order;
  }

  function renderWorkers() {
    const maxRss = Math.max(1, ...S.procs.map((p) => p[1]));
    $("procs").tBodies[0].innerHTML = S.procs.map(([p, rss, cpu]) =>
      '<tr data-process="' + p + '" data-rss="' + rss + '" data-cpu="' + cpu + '"><td>' + p +
      '</td><td><span class="meter"><span style="width:' + (100 * rss / maxRss).toFixed(1) +
      '%"></span></span>' + fmtBytes(rss) + '</td><td><span class="meter"><span style="width:' +
      Math.min(100, cpu / Math.max(1, navigator.hardwareConcurrency || 1)).toFixed(1) +
      '%;background:#e15759"></span></span>' + cpu.toFixed(0) + " %</td></tr>").join("");
    $("workers").tBodies[0].innerHTML = rowOrder().map((r) => {
      const b = S.busy[r] || 0;
      return '<tr data-row="' + r + '"><td>' + esc(rowLabel(r)) + '</td><td><span class="meter"><span style="width:' +
        b.toFixed(1) + '%;background:#59a14f"></span></span>' + b.toFixed(0) + " %</td></tr>";
    }).join("");
  }

  function windowMs(t) {
    const v = $("window").value;
    if (v !== "auto") return Number(v);
    const st = S.status;
    const since = st && st.run ? t - st.started + 250 : 5000;
    return Math.min(600000, Math.max(2000, since));
  }

  function drawStream() {
    const canvas = $("stream-canvas");
    const order = rowOrder();
    const rowOf = new Map(order.map((r, i) => [r, i]));
    const rowH = Math.max(10, Math.min(26, Math.floor(360 / Math.max(1, order.length))));
    const gutter = 70, axis = 18;
    const cssW = canvas.clientWidth || 800;
    const cssH = Math.max(60, order.length * rowH + axis + 4);
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr); canvas.height = Math.round(cssH * dpr);
      canvas.style.height = cssH + "px";
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const t1 = S.status && S.status.run && S.status.ended !== null ? Math.max(S.status.ended + 100, 0) : now();
    const span = windowMs(t1);
    const t0 = t1 - span;
    const plotW = cssW - gutter - 4;
    const x = (t) => gutter + (t - t0) / span * plotW;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#555"; ctx.textBaseline = "middle";
    order.forEach((r, i) => {
      ctx.fillText(rowLabel(r), 4, i * rowH + rowH / 2);
      ctx.fillStyle = i % 2 ? "#fafbfc" : "#f1f3f5";
      ctx.fillRect(gutter, i * rowH, plotW, rowH);
      ctx.fillStyle = "#555";
    });
    let drawn = 0;
    const seen = new Set();
    for (const [row, s, e, name, , failed] of S.bars) {
      if (e < t0 || s > t1) continue;
      const i = rowOf.get(row);
      if (i === undefined) continue;
      const xs = x(Math.max(s, t0)), w = Math.max(1, x(Math.min(e, t1)) - xs);
      ctx.fillStyle = failed ? "#c8383b" : colour(name);
      ctx.fillRect(xs, i * rowH + 2, w, rowH - 4);
      drawn++; seen.add(name);
    }
    for (const [row, name, since] of S.running) {
      const i = rowOf.get(row);
      if (i === undefined) continue;
      const xs = x(Math.max(since, t0));
      ctx.globalAlpha = 0.5; ctx.fillStyle = colour(name);
      ctx.fillRect(xs, i * rowH + 2, Math.max(2, x(t1) - xs), rowH - 4);
      ctx.globalAlpha = 1; seen.add(name);
    }
    // Time axis: seconds before now (or before the run's end).
    ctx.fillStyle = "#666"; ctx.textBaseline = "top";
    const y = order.length * rowH + 3;
    const step = [100, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000].find((s) => span / s <= 8) || 120000;
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      const label = "-" + fmtMs(t1 - t).replace(" ", "");
      ctx.fillText(t1 - t < 1 ? "now" : label, x(t) - 12, y);
    }
    const box = $("stream");
    box.dataset.bars = drawn; box.dataset.received = S.received; box.dataset.rows = order.length;
    const legend = [...seen].sort((a, b) => a - b).map((n) =>
      '<span data-name="' + esc(S.names[n] || "?") + '"><i class="swatch" style="background:' + colour(n) + '"></i>' +
      esc(S.names[n] || "?") + "</span>").join("");
    if ($("legend").innerHTML !== legend) $("legend").innerHTML = legend;
  }

  // Layers ranked by longest path from the sources, columns left to right;
  // inside a column, ordered by the mean position of their inputs.
  function layout(g) {
    const n = Math.min(g.layers.length, MAX_LAYERS);
    const ins = Array.from({ length: n }, () => []);
    for (const [a, b] of g.edges) if (a < n && b < n) ins[b].push(a);
    const rank = new Array(n).fill(0);
    // Layers come inputs first, but edges may point back after merging runs:
    // a few relaxation passes settle any order.
    for (let pass = 0; pass < 4; pass++) {
      for (let b = 0; b < n; b++) for (const a of ins[b]) if (a !== b && rank[a] + 1 > rank[b] && rank[a] < n) rank[b] = rank[a] + 1;
    }
    const cols = [];
    for (let i = 0; i < n; i++) (cols[rank[i]] = cols[rank[i]] || []).push(i);
    const pos = new Array(n).fill(0);
    for (const col of cols) {
      if (!col) continue;
      const key = (i) => ins[i].length ? ins[i].reduce((s, a) => s + pos[a], 0) / ins[i].length : i;
      col.sort((a, b) => key(a) - key(b));
      col.forEach((i, k) => { pos[i] = k; });
    }
    return { n, rank, pos, cols: cols.length };
  }

  function renderGraph() {
    const g = S.graph;
    const svg = $("graph");
    const key = JSON.stringify(g);
    if (key !== S.graphKey) {
      S.graphKey = key;
      const L = layout(g);
      const W = 150, H = 40, GX = 50, GY = 12;
      const maxPos = Math.max(0, ...L.pos.slice(0, L.n));
      svg.setAttribute("width", Math.max(10, L.cols * (W + GX)));
      svg.setAttribute("height", Math.max(10, (maxPos + 1) * (H + GY)));
      const at = (i) => [L.rank[i] * (W + GX) + 4, L.pos[i] * (H + GY) + 4];
      let html = "";
      for (const [a, b] of g.edges) {
        if (a >= L.n || b >= L.n) continue;
        const [ax, ay] = at(a), [bx, by] = at(b);
        const x1 = ax + W, y1 = ay + H / 2, x2 = bx, y2 = by + H / 2, mx = (x1 + x2) / 2;
        html += '<path class="edge" d="M' + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2 + '"/>';
      }
      for (let i = 0; i < L.n; i++) {
        const [name, tasks, output] = g.layers[i];
        const [lx, ly] = at(i);
        html += '<g class="layer' + (output ? " output" : "") + '" data-layer="' + i + '" data-name="' + esc(S.names[name] || "?") +
          '" transform="translate(' + lx + "," + ly + ')"><rect class="bg" width="' + W + '" height="' + H + '" rx="5"/>' +
          '<rect class="done" height="' + H + '" rx="5" width="0" fill="' + colour(name) + '" opacity=".75"/>' +
          '<rect class="fail" height="' + H + '" width="0" fill="#c8383b"/>' +
          '<text x="8" y="16">' + esc(S.names[name] || "?") + '</text><text class="count" x="8" y="31">' + tasks + " tasks</text></g>";
      }
      if (g.layers.length > L.n) html += '<text x="4" y="12">' + g.layers.length + " layers; the first " + L.n + " shown</text>";
      svg.innerHTML = html;
    }
    const byName = new Map(S.groups.map((gr) => [gr[0], gr]));
    for (const el of svg.querySelectorAll("g.layer")) {
      const [name, tasks] = g.layers[Number(el.dataset.layer)];
      const gr = byName.get(name) || [name, tasks, 0, 0, 0];
      const total = Math.max(1, gr[1]);
      const done = gr[2], running = gr[3], failed = gr[4];
      el.dataset.done = done; el.dataset.total = gr[1]; el.dataset.failed = failed;
      el.querySelector("rect.done").setAttribute("width", (150 * Math.min(1, done / total)).toFixed(1));
      el.querySelector("rect.fail").setAttribute("width", failed ? 6 : 0);
      el.querySelector("text.count").textContent = done + " / " + gr[1] + (running ? " · " + running + " running" : "") +
        (failed ? " · " + failed + " failed" : "");
    }
  }

  function renderFailure() {
    const f = S.failure, box = $("failure");
    box.hidden = !f;
    if (!f) return;
    const k = $("failure-key");
    k.textContent = f.key; k.dataset.key = f.key;
    const ago = Math.max(0, now() - f.at);
    $("failure-where").textContent = (S.procs.length > 1 ? "on process " + f.process + ", " : "") +
      (ago < 1500 ? "just now" : fmtMs(ago) + " ago");
    $("failure-error").textContent = f.error || "(the error arrives when the computation ends)";
  }

  function connect() {
    const es = new EventSource("/events");
    es.onmessage = (e) => apply(JSON.parse(e.data));
    es.onerror = () => {
      const el = $("status");
      el.dataset.state = "connecting";
      el.textContent = "reconnecting…";
    };
  }

  $("window").addEventListener("change", drawStream);
  window.addEventListener("resize", drawStream);
  // Scroll the stream between updates.
  setInterval(() => {
    if (S.status && S.status.state === "running") { drawStream(); renderStatus(); }
    if (S.failure) renderFailure();
  }, 200);
  connect();
})();
