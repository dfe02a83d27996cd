"use strict";
// The call tree of the HTML report (loaded before report.js, which calls it with its helpers): the
// backtraces of today's byte ranges merged from the outermost frame in, weighted by mapped or
// resident bytes, drawn as an icicle (a flame graph upside down: callers above callees) and as a
// top-down tree of nested lists. Both follow the time range chosen on the time axis.
(window.mapblameViews = window.mapblameViews || {}).callTree = function (K, P) {
  const { h, svg, bytes, showTip, hideTip, rssShare, frameShort, COLOR, ink } = K;
  const wrap = h("div", { class: "calltree-view" }, h("h3", null, "Call tree"),
    h("p", { class: "note" }, "The backtraces of today's byte ranges (file mappings left out), merged from the outermost " +
      "frame in: each box is a function, as wide as the bytes mapped under it, its callees below it; its colour is the " +
      "category holding most of its bytes. Click a box to zoom in, the top box to zoom out. The list under it is the " +
      "same tree, biggest first."));
  const select = h("select", { "aria-label": "weight" }, h("option", { value: "mapped" }, "mapped bytes"),
                   h("option", { value: "rss" }, "resident bytes (share)"));
  const icicle = h("div", { class: "flame" }), list = h("div", { class: "calltree" });
  wrap.append(h("div", { class: "controls" }, h("label", null, "weight ", select)), icicle, list);
  let focus = null;
  const draw = () => {
    const root = build(select.value);
    icicle.replaceChildren(drawIcicle(root, focus && find(root, focus) || root));
    list.replaceChildren(drawList(root));
    list.setAttribute("data-total", root.value);
    list.setAttribute("data-nodes", root.count);
  };
  select.addEventListener("change", draw);
  P.onRange.push(draw);
  draw();
  return wrap;

  function node(name) { return { name, value: 0, byCat: new Map(), kids: new Map(), count: 1 }; }

  function build(weight) {
    const root = node("all anonymous memory of today's regions");
    for (const r of P.regions) for (const o of r.origins) {
      if (o.cat === "file" || !P.inRange(o)) continue;
      const w = weight === "rss" ? rssShare(r, o) : o.size;
      if (!w) continue;
      const ev = o.event == null ? null : P.eventById.get(o.event);
      const path = ev && ev.stack.length ? ev.stack.map(frameShort).reverse() : ["(no backtrace) " + o.cat + ": " + o.label];
      let at = root;
      add(at, w, o.cat);
      for (const name of path) {
        let next = at.kids.get(name);
        if (!next) { at.kids.set(name, (next = node(name))); root.count++; }
        at = next;
        add(at, w, o.cat);
      }
    }
    return root;
  }

  function add(n, w, cat) { n.value += w; n.byCat.set(cat, (n.byCat.get(cat) ?? 0) + w); }

  function mainCat(n) {
    let best = null, most = -1;
    for (const [c, v] of n.byCat) if (v > most) { best = c; most = v; }
    return best;
  }

  function find(n, path) {
    let at = n;
    for (const name of path) { at = at.kids.get(name); if (!at) return null; }
    return at;
  }

  function drawIcicle(all, top) {
    const W = 1200, ROW = 18, MAXDEPTH = 48, rects = [];
    let depth = 0;
    const path = focus ?? [];
    const lay = (n, x0, w, d, trail) => {
      if (w < 0.4 || d > MAXDEPTH) return;
      depth = Math.max(depth, d);
      rects.push({ n, x0, w, d, trail });
      let x = x0;
      for (const k of [...n.kids.values()].sort((a, b) => b.value - a.value || a.name.localeCompare(b.name))) {
        const kw = n.value ? (k.value / n.value) * w : 0;
        lay(k, x, kw, d + 1, trail.concat([k.name]));
        x += kw;
      }
    };
    if (top.value) lay(top, 0, W, 0, path);
    const H = (depth + 1) * ROW;
    const pic = svg("svg", { viewBox: "0 0 " + W + " " + Math.max(H, ROW), role: "img", "data-boxes": rects.length,
                              "aria-label": "icicle of the call tree" });
    for (const { n, x0, w, d, trail } of rects) {
      const cat = mainCat(n), fill = n === all ? "#e5e7eb" : COLOR[cat] ?? "#999999";
      const g = svg("g", { class: "box", "data-depth": d },
        svg("rect", { x: x0, y: d * ROW, width: Math.max(0.5, w - 0.5), height: ROW - 1, fill, rx: 2 }));
      if (w > 40) {
        g.append(svg("text", { x: x0 + 4, y: d * ROW + 13, fill: ink(fill), "font-size": 11 },
                     clip(n.name + " \u00b7 " + bytes(n.value), Math.floor((w - 8) / 6.2))));
      }
      g.addEventListener("click", () => { focus = n === top ? (trail.length ? trail.slice(0, -1) : null) : trail; if (focus && !focus.length) focus = null; draw(); });
      g.addEventListener("mousemove", ev => showTip(ev, [n.name, bytes(n.value) + " (" + pct(n.value, all.value) + " of all)",
                                                         "mostly " + cat]));
      g.addEventListener("mouseleave", hideTip);
      pic.append(g);
    }
    if (!rects.length) return h("p", { class: "muted" }, "No bytes in this selection.");
    return pic;
  }

  function clip(s, n) { return s.length <= n ? s : s.slice(0, Math.max(1, n - 1)) + "\u2026"; }
  function pct(v, total) { return total ? (Math.round((v / total) * 1000) / 10).toFixed(1) + "%" : "0%"; }

  function drawList(root) {
    const total = root.value;
    const item = n => {
      const kids = [...n.kids.values()].sort((a, b) => b.value - a.value || a.name.localeCompare(b.name));
      const label = [h("span", { class: "num" }, bytes(n.value)), h("span", { class: "num muted" }, pct(n.value, total)),
                     h("span", { class: "sw", style: "background:" + (COLOR[mainCat(n)] ?? "#999999") }), " " + n.name];
      if (!kids.length) return h("li", { class: "leaf" }, ...label);
      const d = h("details", null, h("summary", null, ...label));
      // Children are built when opened: a tree of 100,000 frames costs nothing until looked at.
      d.addEventListener("toggle", () => {
        if (d.open && d.childElementCount === 1) d.append(h("ul", null, ...kids.map(item)));
      }, { once: false });
      return h("li", null, d);
    };
    const top = item(root);
    const d = top.querySelector("details");
    if (d) d.open = true;
    return h("ul", { class: "tree" }, top);
  }
};
