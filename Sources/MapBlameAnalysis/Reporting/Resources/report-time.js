"use strict";
// The time axis of the HTML report (loaded before report.js, which calls it with its helpers):
// bytes of today's regions per site over real time, the process's anonymous bytes over time as
// the replay saw them, its peaks, and a range selection that filters the other views.
(window.mapblameViews = window.mapblameViews || {}).timeAxis = function (K, P) {
  const { h, svg, bytes, showTip, hideTip, rssShare, frameShort } = K;
  const p = P.p, wrap = h("div", { class: "timeline" }, h("h3", null, "Time axis"));
  const times = P.events.map(e => e.time).filter(t => t != null);
  const tmax = [...times, ...p.series.map(m => m[0] ?? 0)].reduce((a, t) => Math.max(a, t), p.end ?? 0);
  // The axis spans the process's life (a child starts late; the launch itself takes a while).
  const t0 = Math.min(p.start ?? Infinity, times.reduce((a, t) => Math.min(a, t), Infinity));
  if (!times.length || !(tmax > t0)) {
    wrap.append(h("p", { class: "note" }, "This trace has no timestamps (it was recorded before mapblame took them): " +
                  "there is no time axis."));
    return wrap;
  }
  wrap.append(h("p", { class: "note" },
    "x is time since the launch, from the process's start to its exit. The coloured areas are the bytes of today's regions (those still mapped at exit) " +
    "by site, added at the moment the call that created them returned; the black line is every anonymous byte " +
    "mapped at each moment (also memory freed later), from the replay of the whole trace; the red lines mark the " +
    "peaks. Drag across the chart to keep only the calls of that time span in the tables below."));
  // Sites of today's regions (file mappings left out), the biggest 8 on their own.
  const groups = new Map();
  for (const r of P.regions) for (const o of r.origins) {
    if (o.cat === "file" || o.event == null) continue;
    const ev = P.eventById.get(o.event);
    if (!ev || ev.time == null) continue;
    const name = o.cat + ": " + (o.site != null ? frameShort(o.site) : o.label);
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, mapped: 0, rss: 0, items: [] }));
    g.mapped += o.size; g.rss += rssShare(r, o); g.items.push([ev.time, o.size, rssShare(r, o)]);
  }
  const ranked = [...groups.values()].sort((a, b) => b.mapped - a.mapped || a.name.localeCompare(b.name));
  const layers = ranked.slice(0, 8);
  if (ranked.length > 8) {
    const other = { name: (ranked.length - 8) + " other sites", mapped: 0, rss: 0, items: [] };
    for (const g of ranked.slice(8)) { other.mapped += g.mapped; other.rss += g.rss; other.items.push(...g.items); }
    layers.push(other);
  }
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#9a9a9a"];
  const select = h("select", { "aria-label": "quantity" }, h("option", { value: "mapped" }, "mapped bytes"),
                   h("option", { value: "rss" }, "resident at exit"));
  const clear = h("button", { type: "button", class: "link", hidden: true }, "clear the selection");
  const status = h("span", { class: "muted" });
  const holder = h("div"), legend = h("div", { class: "legend" });
  layers.forEach((g, i) => legend.append(h("span", { class: "chip", title: g.name },
    h("span", { class: "sw", style: "background:" + PALETTE[i] }), g.name, h("small", null, bytes(g.mapped)))));
  let range = null;
  const draw = () => holder.replaceChildren(chart(select.value));
  select.addEventListener("change", draw);
  clear.addEventListener("click", () => setRange(null));
  function setRange(next) {
    range = next;
    clear.hidden = !range;
    status.textContent = range ? "calls from " + ms(range[0]) + " to " + ms(range[1]) : "";
    P.setRange(range);
    draw();
  }
  wrap.append(h("div", { class: "controls" }, h("label", null, "show ", select), clear, status), holder, legend);
  draw();
  return wrap;

  function ms(t) { return t >= 1e9 ? (t / 1e9).toFixed(3) + " s" : (t / 1e6).toFixed(t >= 1e7 ? 1 : 3) + " ms"; }

  function chart(mode) {
    const W = 1000, H = 300, L = 76, R = 20, T = 14, B = 40, pw = W - L - R, ph = H - T - B;
    const x = t => L + ((t - t0) / (tmax - t0)) * pw;
    // Each layer is a step function of time; all layers change at the union of their times.
    const stamps = [...new Set([t0, ...layers.flatMap(g => g.items.map(it => it[0])), tmax])].sort((a, b) => a - b);
    const level = layers.map(g => {
      const sorted = g.items.slice().sort((a, b) => a[0] - b[0]), out = new Float64Array(stamps.length);
      let k = 0, sum = 0;
      stamps.forEach((t, i) => { while (k < sorted.length && sorted[k][0] <= t) sum += sorted[k++][mode === "rss" ? 2 : 1]; out[i] = sum; });
      return out;
    });
    const top = stamps.map((_, i) => level.reduce((a, l) => a + l[i], 0));
    const seriesMax = p.series.reduce((a, m) => Math.max(a, m[1]), 0);
    const ymax = top.reduce((a, v) => Math.max(a, v), Math.max(1, seriesMax));
    const y = v => T + ph - (v / ymax) * ph;
    const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", class: "timeaxis", "data-time-axis": mode,
                              "data-t-min": t0, "data-t-max": tmax, "data-x0": L, "data-pw": pw, "data-vw": W,
                              "aria-label": "bytes over time (" + mode + ")" });
    for (let g = 0; g <= 4; g++) {
      const v = (ymax * g) / 4;
      root.append(svg("line", { x1: L, x2: L + pw, y1: y(v), y2: y(v), stroke: "#e3e6ea" }),
                  svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", fill: "#4b5563" }, bytes(Math.round(v))));
    }
    for (let g = 0; g <= 5; g++) {
      const t = t0 + ((tmax - t0) * g) / 5;
      root.append(svg("text", { x: x(t), y: T + ph + 16, "text-anchor": g === 0 ? "start" : g === 5 ? "end" : "middle",
                                fill: "#4b5563" }, ms(t)));
    }
    const lower = new Float64Array(stamps.length);
    const steps = vals => { const pts = []; stamps.forEach((t, i) => { if (i) pts.push(x(t).toFixed(1) + "," + y(vals[i - 1]).toFixed(1)); pts.push(x(t).toFixed(1) + "," + y(vals[i]).toFixed(1)); }); return pts; };
    layers.forEach((g, li) => {
      const bottom = steps(lower);
      for (let i = 0; i < stamps.length; i++) lower[i] += level[li][i];
      root.append(svg("polygon", { points: steps(lower).concat(bottom.reverse()).join(" "), fill: PALETTE[li], "fill-opacity": 0.8,
                                   "data-site": g.name }, svg("title", null, g.name + ": " + bytes(mode === "rss" ? g.rss : g.mapped))));
    });
    // Every anonymous byte mapped, from the replay (bounded series: the peaks are exact).
    const line = [];
    let prev = null;
    for (const m of p.series) {
      if (m[0] == null || m[0] < t0) continue;
      if (prev != null) line.push(x(m[0]).toFixed(1) + "," + y(prev).toFixed(1));
      line.push(x(m[0]).toFixed(1) + "," + y(m[1]).toFixed(1));
      prev = m[1];
    }
    if (prev != null) line.push(x(tmax).toFixed(1) + "," + y(prev).toFixed(1));
    if (line.length) root.append(svg("polyline", { points: line.join(" "), fill: "none", stroke: "#111827", "stroke-width": 1.5,
                                                   "data-series": "anonymous" }, svg("title", null, "anonymous bytes mapped")));
    for (const pk of p.peaks) {
      if (pk.time == null) continue;
      const px = x(pk.time), anon = pk.quantity === "anonymous_bytes";
      const text = anon ? "peak anonymous " + bytes(pk.anonymous) : "peak VMAs " + pk.vmas;
      root.append(svg("g", { "data-peak": pk.quantity, "data-time": pk.time },
        svg("line", { x1: px, x2: px, y1: T, y2: T + ph, stroke: "#b91c1c", "stroke-dasharray": anon ? null : "5 3" }),
        svg("text", { x: Math.min(px + 4, L + pw - 4), y: T + 10 + (anon ? 0 : 13), fill: "#b91c1c",
                      "text-anchor": px + 4 > L + pw - 160 ? "end" : "start" }, text + " at " + ms(pk.time)),
        svg("title", null, text + " at " + ms(pk.time) + (pk.event != null ? " (after call #" + pk.event + ")" : ""))));
    }
    root.append(svg("line", { x1: L, x2: L + pw, y1: T + ph, y2: T + ph, stroke: "#4b5563" }),
                svg("text", { x: L + pw / 2, y: T + ph + 32, "text-anchor": "middle", fill: "#4b5563" }, "time since launch \u2192"));
    const band = svg("rect", { y: T, height: ph, fill: "#2f6fdd", "fill-opacity": 0.15, stroke: "#2f6fdd",
                               visibility: range ? "visible" : "hidden", class: "range" });
    if (range) { band.setAttribute("x", x(range[0])); band.setAttribute("width", Math.max(1, x(range[1]) - x(range[0]))); }
    const hit = svg("rect", { x: L, y: T, width: pw, height: ph, fill: "transparent", class: "hit" });
    root.append(band, hit);
    const timeAt = ev => {
      const box = root.getBoundingClientRect(), sx = ((ev.clientX - box.left) / box.width) * W;
      return Math.max(t0, Math.min(tmax, t0 + ((sx - L) / pw) * (tmax - t0)));
    };
    let from = null;
    hit.addEventListener("mousedown", ev => { from = timeAt(ev); ev.preventDefault(); });
    hit.addEventListener("mousemove", ev => {
      const t = timeAt(ev);
      if (from != null) {
        band.setAttribute("x", x(Math.min(from, t))); band.setAttribute("width", Math.max(1, Math.abs(x(t) - x(from))));
        band.setAttribute("visibility", "visible");
      }
      let i = stamps.findIndex(s => s > t);
      i = i < 0 ? stamps.length - 1 : Math.max(0, i - 1);
      const own = layers.map((g, li) => [g.name, level[li][i]]).filter(v => v[1] > 0);
      showTip(ev, [ms(t) + ": " + bytes(top[i]) + " of today's regions", ...own.slice(0, 6).map(([n, v]) => bytes(v) + " " + n)]);
    });
    const finish = ev => {
      if (from == null) return;
      const t = timeAt(ev), a = Math.min(from, t), b = Math.max(from, t);
      from = null;
      setRange(b - a > (tmax - t0) / pw ? [a, b] : null);  // a click (no drag) clears
    };
    hit.addEventListener("mouseup", finish);
    hit.addEventListener("mouseleave", ev => { hideTip(); if (from != null) finish(ev); });
    return root;
  }
};
