"use strict";
(function () {
const COLOR = { bss: "#4e79a7", heap: "#f28e2b", stack: "#59a14f", "thread-stack": "#8cd17d", guard: "#bab0ac",
  malloc: "#e15759", "malloc-arena": "#ff9d9a", allocator: "#d37295", loader: "#b07aa1", mmap: "#edc948", shm: "#76b7b2",
  vdso: "#a8846c", file: "#c9d3df", unknown: "#7a7a7a" };
const ABOUT = { bss: "zero-initialized globals (.bss) of the program or of a library",
  heap: "the brk heap", stack: "the main thread's stack", "thread-stack": "the stack of a thread",
  guard: "guard pages (no access) below thread stacks and arenas",
  malloc: "a large allocation glibc served with mmap", "malloc-arena": "a glibc per-thread malloc arena",
  allocator: "memory another allocator mapped (jemalloc, the Go runtime, pymalloc...)",
  loader: "memory of the dynamic loader (ld.so) itself", mmap: "direct anonymous mmap by program code",
  shm: "shared memory", vdso: "[vdso], [vvar], [vsyscall]: pages the kernel maps at exec",
  file: "file-backed mappings: code, data and mapped files", unknown: "bytes no traced call explains" };
const PAGE = 4096, SVGNS = "http://www.w3.org/2000/svg";

/// WCAG 2 relative luminance of "#rrggbb", and the text colour (black or white) with the higher
/// contrast on it: every category colour gets at least 4.5:1 (AA) with black.
function luminance(hex) {
  const c = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map(v => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
const contrast = (a, b) => { const x = luminance(a), y = luminance(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
const ink = bg => (contrast(bg, "#000000") >= contrast(bg, "#ffffff") ? "#000000" : "#ffffff");
let D, S, F, CATS, CATINDEX;

function fail(message) {
  const e = document.getElementById("error");
  e.textContent = message;
  e.hidden = false;
  document.body.setAttribute("data-error", message);
}

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  setAll(e, attrs);
  for (const kid of kids) if (kid != null && kid !== false) e.append(kid instanceof Node ? kid : String(kid));
  return e;
}

function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  setAll(e, attrs);
  for (const kid of kids) if (kid != null) e.append(kid instanceof Node ? kid : String(kid));
  return e;
}

function setAll(e, attrs) {
  if (attrs) for (const k in attrs) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k === "class" && !(e instanceof SVGElement)) e.className = v; else e.setAttribute(k, String(v));
  }
}

const str = i => (i == null ? null : S[i]);
const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
const base = p => p.slice(p.lastIndexOf("/") + 1);
const hexAdd = (hex, n) => (BigInt("0x" + hex) + BigInt(n)).toString(16);
// The origin's resident bytes as the text report counts them (exact from pagemap, or shared by size).
const rssShare = (r, o) => o.rss;

function bytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1048576 && n % 1024 === 0) return n / 1024 + " KiB";
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return (Math.round(v * 10) / 10).toFixed(1) + " " + units[u];
}

/// "parse_config (config.c:88)", "parse_config" or "libfoo.so+0x1f2a3", as in the text report.
const frameShort = i => S[F[i][6]];

function frameWhere(i) {
  const f = F[i], m = str(f[1]);
  return (m != null ? m : "??") + "+0x" + f[2] + " (ip 0x" + f[0] + ")";
}

function decode(p) {
  const regions = p.regions.map((r, i) => ({
    i, startHex: r[0], size: r[1], perms: r[2], offset: r[3], device: r[4], inode: r[5], path: str(r[6]) ?? "",
    rss: r[7], anon: r[8], swap: r[9], cat: CATS[r[10]], label: str(r[11]), gap: r[12],
    evidence: str(r[14]), confidence: str(r[15]),
    origins: r[13].map(o => ({ off: o[0], size: o[1], event: o[2], syscall: o[3], cat: CATS[o[4]],
                               label: str(o[5]), site: o[6], rss: o[7], swap: o[8], exact: o[9] })),
  }));
  const events = p.events.map(e => ({ id: e[0], tid: e[1], syscall: e[2], result: e[3], path: str(e[4]),
                                      stack: e[5], call: e[6], time: e[7] ?? null }));
  const P = { p, regions, events, eventById: new Map(events.map(e => [e.id, e])), range: null, onRange: [] };
  // The time range chosen on the time axis: only origins whose call returned inside it count.
  P.inRange = o => {
    if (!P.range) return true;
    const ev = o.event == null ? null : P.eventById.get(o.event);
    return ev != null && ev.time != null && ev.time >= P.range[0] && ev.time <= P.range[1];
  };
  P.setRange = range => { P.range = range; for (const f of P.onRange) f(); };
  return P;
}

// MARK: tooltip

const tip = () => document.getElementById("tip");
function showTip(ev, lines) {
  const t = tip();
  t.replaceChildren(...lines.map(l => h("div", null, l)));
  t.hidden = false;
  const x = Math.max(4, Math.min(ev.clientX + 14, innerWidth - t.offsetWidth - 8));
  const below = ev.clientY + 18 + t.offsetHeight < innerHeight;
  t.style.left = x + "px";
  t.style.top = (below ? ev.clientY + 18 : Math.max(4, ev.clientY - t.offsetHeight - 10)) + "px";
}
function hideTip() { tip().hidden = true; }

// MARK: process section

function renderProcess(P) {
  const p = P.p, exe = str(p.exe);
  const sec = h("section", { id: "pid-" + p.pid, role: "tabpanel", "data-pid": p.pid,
                             "data-region-count": P.regions.length, "data-event-count": P.events.length });
  sec.append(h("h2", null, "pid " + p.pid + " ", h("code", null, exe ?? "?")));
  let mapped = 0, rss = 0, anon = 0;
  for (const r of P.regions) { mapped += r.size; rss += r.rss; anon += r.anon; }
  const facts = [p.ppid != null ? "child of " + p.ppid : (D.attached ? "attached" : "the launched program"), p.exit,
                 [P.regions.length, " regions"], [bytes(mapped), " mapped"], [bytes(rss), " resident"],
                 [bytes(anon), " anonymous"], [p.recorded, " mapping calls recorded"]];
  if (p.verify) facts.push(["verify: " + p.verify.mismatched, " mismatched pages of " + p.verify.mapped_pages]);
  sec.append(h("div", { class: "summary" },
               ...facts.map(f => (Array.isArray(f) ? h("span", null, h("b", null, f[0]), f[1]) : h("span", null, f)))));
  if (!p.snapshot) {
    sec.setAttribute("data-site-count", 0);
    sec.append(h("p", { class: "note" }, "No final snapshot: the process ended before its exit could be " +
                                           "observed, so there is no map to show."));
    return sec;
  }
  sec.append(renderLegend(P));
  sec.append(h("h3", null, "Address space"),
             h("p", { class: "note" }, "Every line of the final /proc/" + p.pid + "/maps in address order, " +
               "its height on a log scale of its size (4 KiB to 256 MiB and up) and unmapped gaps folded, so " +
               "small regions stay visible. The solid part of a band is its resident share. Hover for a " +
               "summary; click for its origins and their backtraces."));
  const details = h("div", { class: "details" }), map = renderMap(P, details);
  const anonOnly = h("input", { type: "checkbox", class: "anon-only" });
  anonOnly.addEventListener("change", () => {
    map.classList.toggle("anon-only", anonOnly.checked);
    map.setAttribute("data-visible-bands", map.querySelectorAll(anonOnly.checked ? '.band[data-anonymous="1"]' : ".band").length);
  });
  map.setAttribute("data-visible-bands", P.regions.length);
  sec.append(h("div", { class: "controls" }, h("label", null, anonOnly, " anonymous only (hide regions backed by a file)")),
             h("div", { class: "mapgrid" }, map, details));
  const views = window.mapblameViews || {};
  if (views.timeAxis) sec.append(views.timeAxis(KIT, P));
  sec.append(renderSites(P, sec));
  if (views.callTree) sec.append(views.callTree(KIT, P));
  return sec;
}

function totals(P) {
  const t = new Map();
  const get = c => t.get(c) ?? (t.set(c, { regions: 0, mapped: 0, rss: 0 }), t.get(c));
  for (const r of P.regions) {
    get(r.cat).regions++;
    for (const o of r.origins) { const x = get(o.cat); x.mapped += o.size; x.rss += rssShare(r, o); }
  }
  return t;
}

function renderLegend(P) {
  const t = totals(P), box = h("div", { class: "legend" });
  for (const c of CATS) {
    const x = t.get(c);
    if (!x) continue;
    box.append(h("span", { class: "chip", title: ABOUT[c] ?? c, "data-category": c },
                 h("span", { class: "sw", style: "background:" + COLOR[c] }), c,
                 h("small", null, plural(x.regions, "region") + " \u00b7 " + bytes(x.mapped) + " \u00b7 rss " + bytes(x.rss))));
  }
  const about = h("dl", { class: "note" });
  for (const c of CATS) about.append(h("dt", null, h("span", { class: "sw", style: "background:" + COLOR[c] }), " ", c),
                                     h("dd", null, ABOUT[c] ?? ""));
  return h("div", null, h("h3", null, "Categories"), box,
           h("details", null, h("summary", { class: "muted" }, "What the categories mean"), about));
}

// MARK: address space

function regionTitle(r) {
  let t = r.path === "" ? r.cat + ": " + r.label : r.cat === "file" ? r.path : r.path + "  \u2014  " + r.cat + ": " + r.label;
  if (r.origins.length > 1) t += "  (" + r.origins.length + " ranges)";
  return t;
}

/// Bands go into chunks that the browser lays out and paints only near the visible part of the
/// scroll box (content-visibility), so 10,000 regions cost little more than 100.
function renderMap(P, details) {
  const box = h("div", { class: "map", "data-bands": P.regions.length });
  let chunk = null, chunkHeight = 0, count = 0;
  const flush = () => { if (chunk) { chunk.style.containIntrinsicSize = "auto " + chunkHeight + "px"; box.append(chunk); } };
  for (const r of P.regions) {
    if (count++ % 200 === 0) { flush(); chunk = h("div", { class: "chunk" }); chunkHeight = 0; }
    if (r.gap > 0) {
      chunk.append(h("div", { class: "gap" }, "\u22ef " + bytes(r.gap) + " unmapped \u22ef"));
      chunkHeight += 14;
    }
    const color = COLOR[r.cat] ?? "#999999";
    const height = Math.round(Math.min(56, 16 + 2.5 * Math.log2(Math.max(1, r.size / PAGE))));
    const resident = (r.size > 0 ? Math.min(100, (r.rss / r.size) * 100) : 0).toFixed(2) + "%";
    chunk.append(h("div", { class: "band", "data-i": r.i, "data-category": r.cat, "data-anonymous": r.inode === 0 ? "1" : "0",
                            style: "height:" + height + "px;color:" + ink(color) + ";background:linear-gradient(90deg," + color + " " + resident +
                                   "," + color + "55 " + resident + ")" },
                   h("span", { class: "addr" }, r.startHex),
                   h("span", { class: "lab" }, regionTitle(r)),
                   h("span", { class: "sz" }, bytes(r.size) + (r.rss ? " \u00b7 rss " + bytes(r.rss) : ""))));
    chunkHeight += height + 2;
  }
  flush();
  const regionAt = ev => { const b = ev.target.closest(".band"); return b ? [b, P.regions[+b.dataset.i]] : [null, null]; };
  box.addEventListener("click", ev => {
    const [band, r] = regionAt(ev);
    if (!r) return;
    box.querySelector(".band.sel")?.classList.remove("sel");
    band.classList.add("sel");
    showRegion(P, r, details);
  });
  box.addEventListener("mousemove", ev => {
    const [, r] = regionAt(ev);
    if (!r) return hideTip();
    showTip(ev, [r.startHex + "-" + hexAdd(r.startHex, r.size) + " " + r.perms + "  " + bytes(r.size) +
                 ", rss " + bytes(r.rss), regionTitle(r),
                 ...r.origins.slice(0, 6).map(o => "\u2022 " + bytes(o.size) + " " + o.cat + ": " + o.label),
                 r.origins.length > 6 ? "\u2026 " + (r.origins.length - 6) + " more" : null].filter(x => x != null));
  });
  box.addEventListener("mouseleave", hideTip);
  // Start with the anonymous region that holds the most resident memory.
  let best = null;
  for (const r of P.regions) {
    if (r.cat === "file" || r.cat === "vdso") continue;
    if (!best || r.rss > best.rss || (r.rss === best.rss && r.size > best.size)) best = r;
  }
  if (best) {
    box.querySelector('.band[data-i="' + best.i + '"]').classList.add("sel");
    showRegion(P, best, details);
  } else {
    details.append(h("p", { class: "muted" }, "Click a region to see where its bytes come from."));
  }
  return box;
}

function showRegion(P, r, panel) {
  panel.replaceChildren(
    h("h4", null, r.startHex + "-" + hexAdd(r.startHex, r.size) + " " + r.perms + " " + r.offset.padStart(8, "0") + " " +
                  r.device + " " + r.inode + (r.path ? " " + r.path : "")),
    h("p", null, "size " + bytes(r.size) + ", resident " + bytes(r.rss) + ", anonymous " + bytes(r.anon) +
                 ", swap " + bytes(r.swap)),
    h("p", null, h("span", { class: "sw", style: "background:" + COLOR[r.cat] }), " ", h("b", null, r.cat), ": " + r.label),
    ...(r.evidence ? [h("p", { class: "muted" }, "evidence: " + r.evidence + (r.confidence ? " (" + r.confidence + ")" : ""))] : []));
  for (const o of r.origins) panel.append(originBlock(P, r, o));
}

function originBlock(P, r, o) {
  const div = h("div", { class: "origin" },
    h("p", null, h("span", { class: "sw", style: "background:" + COLOR[o.cat] }), " ",
      h("code", null, hexAdd(r.startHex, o.off) + "-" + hexAdd(r.startHex, o.off + o.size)),
      " " + bytes(o.size) + (o.exact ? ", rss " : ", rss \u2248 ") + bytes(rssShare(r, o)) +
      (o.swap ? ", swap " + bytes(o.swap) : "")),
    h("p", null, h("b", null, o.cat), ": " + o.label));
  const ev = o.event == null ? null : P.eventById.get(o.event);
  if (!ev) {
    div.append(h("p", { class: "muted" }, o.event != null ? "event #" + o.event + " is not in the report"
      : o.syscall == null ? (D.attached ? "[before attach] mapped before the attach: named from evidence, no backtrace exists"
        : o.cat !== "unknown" ? "named from evidence: explain sees no history, no backtrace" : "no traced call explains these bytes")
      : "made by the kernel itself: no call, no backtrace"));
    return div;
  }
  div.append(h("p", { class: "muted" }, "#" + ev.id + " " + callText(ev) + (ev.syscall === "execve" ? "" : " in thread " + ev.tid)));
  if (o.site != null) div.append(h("p", null, "site: ", h("code", null, frameShort(o.site))));
  div.append(backtrace(ev.stack));
  return div;
}

function backtrace(stack) {
  if (!stack.length) return h("p", { class: "muted" }, "no backtrace");
  const ol = h("ol", { class: "bt", start: 0 });
  for (const i of stack) ol.append(h("li", null, frameShort(i) + " ", h("span", { class: "where" }, frameWhere(i))));
  return ol;
}

function callText(ev) {
  if (ev.syscall === "execve") return "set up by the kernel at execve" + (ev.path ? " of " + ev.path : "");
  const result = ev.result == null ? "?" : ev.result.startsWith("-") ? ev.result : "0x" + ev.result;
  return ev.call + " = " + result + (ev.path ? "  " + ev.path : "");
}
// MARK: sites

function siteGroups(P) {
  const groups = new Map();
  for (const r of P.regions) for (const o of r.origins) {
    if (!P.inRange(o)) continue;
    const name = o.site != null ? frameShort(o.site) : o.label, key = o.cat + "\u0000" + name;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { cat: o.cat, name, rss: 0, mapped: 0, count: 0, items: [] }));
    g.rss += rssShare(r, o); g.mapped += o.size; g.count++; g.items.push(o);
  }
  return [...groups.values()];
}

function renderSites(P, section) {
  let all = siteGroups(P);
  section.setAttribute("data-site-count", all.length);
  P.onRange.push(() => { all = siteGroups(P); draw(); });
  const columns = [["name", "site", false], ["cat", "category", false], ["rss", "rss", true],
                   ["mapped", "mapped", true], ["count", "ranges", true]];
  const state = { key: "rss", dir: -1, limit: 200, files: false, text: "" };
  const head = h("tr"), body = h("tbody"), more = h("button", { class: "link", type: "button" });
  for (const [key, title, num] of columns) {
    const th = h("th", { class: num ? "num" : null, scope: "col", "data-key": key }, title);
    th.addEventListener("click", () => {
      state.dir = state.key === key ? -state.dir : num ? -1 : 1;
      state.key = key;
      draw();
    });
    head.append(th);
  }
  const filter = h("input", { type: "search", placeholder: "filter sites", "aria-label": "filter sites" });
  const files = h("input", { type: "checkbox" });
  filter.addEventListener("input", () => { state.text = filter.value.toLowerCase(); state.limit = 200; draw(); });
  files.addEventListener("change", () => { state.files = files.checked; draw(); });
  more.addEventListener("click", () => { state.limit = Infinity; draw(); });
  const order = (a, b) => {
    const k = state.key, v = typeof a[k] === "number" ? a[k] - b[k] : a[k].localeCompare(b[k]);
    return v * state.dir || b.rss - a.rss || b.mapped - a.mapped || a.name.localeCompare(b.name);
  };
  function draw() {
    for (const th of head.children) {
      th.setAttribute("aria-sort", th.dataset.key === state.key ? (state.dir < 0 ? "descending" : "ascending") : "none");
    }
    const rows = all.filter(g => (state.files || g.cat !== "file") &&
                                 (!state.text || (g.name + " " + g.cat).toLowerCase().includes(state.text))).sort(order);
    const frag = document.createDocumentFragment();
    for (const g of rows.slice(0, state.limit)) {
      const tr = h("tr", { class: "row", title: "click for the backtraces" },
        h("td", { class: "site" }, h("span", { class: "sw", style: "background:" + COLOR[g.cat] }), " " + g.name),
        h("td", null, g.cat), h("td", { class: "num" }, bytes(g.rss)), h("td", { class: "num" }, bytes(g.mapped)),
        h("td", { class: "num" }, g.count));
      tr.addEventListener("click", () => {
        if (tr.nextSibling && tr.nextSibling.classList.contains("more")) return tr.nextSibling.remove();
        tr.after(h("tr", { class: "more" }, h("td", { colspan: columns.length }, siteBacktraces(P, g))));
      });
      frag.append(tr);
    }
    body.replaceChildren(frag);
    body.setAttribute("data-rows", rows.length);
    section.setAttribute("data-range", P.range ? Math.round(P.range[0]) + "-" + Math.round(P.range[1]) : "");
    more.hidden = rows.length <= state.limit;
    more.textContent = "show all " + rows.length + " sites";
  }
  draw();
  return h("div", null, h("h3", null, "Sites"),
    h("p", { class: "note" }, "The site of a byte range is the first frame of its backtrace outside libc, ld.so " +
      "and the allocator (its label when there is none). RSS is per region in smaps, so a range gets its " +
      "region's resident bytes in proportion to its size. Click a row for the backtraces."),
    h("div", { class: "controls" }, filter, h("label", null, files, " file-backed too")),
    h("table", { class: "sites" }, h("thead", null, head), body), more);
}

function siteBacktraces(P, g) {
  const stacks = new Map();
  for (const o of g.items) {
    const ev = o.event == null ? null : P.eventById.get(o.event), key = ev ? ev.stack.join(",") : "-";
    let s = stacks.get(key);
    if (!s) stacks.set(key, (s = { ev, count: 0, bytes: 0, ids: [] }));
    s.count++; s.bytes += o.size;
    if (ev && s.ids.length < 8) s.ids.push("#" + ev.id);
  }
  const list = [...stacks.values()].sort((a, b) => b.bytes - a.bytes), out = h("div");
  for (const s of list.slice(0, 20)) {
    out.append(h("p", null, h("b", null, bytes(s.bytes)), " in " + s.count + (s.count === 1 ? " range" : " ranges") +
                 (s.ev ? ", " + s.ev.syscall + " " + s.ids.join(" ") + (s.count > s.ids.length ? " \u2026" : "") : "")),
               s.ev ? backtrace(s.ev.stack) : h("p", { class: "muted" }, "no traced call: no backtrace"));
  }
  if (list.length > 20) out.append(h("p", { class: "muted" }, "\u2026 and " + (list.length - 20) + " more backtraces"));
  return out;
}

// MARK: start

/// What the views of the other files (report-time.js, report-tree.js) draw with.
const KIT = { h, svg, bytes, plural, showTip, hideTip, rssShare, frameShort, COLOR, ink, contrast,
              get CATS() { return CATS; } };

function main() {
  try {
    D = JSON.parse(document.getElementById("mapblame-data").textContent);
  } catch (e) {
    return fail("The report data does not parse: " + e);
  }
  S = D.strings; F = D.frames; CATS = D.categories;
  CATINDEX = new Map(CATS.map((c, i) => [c, i]));
  const tabs = document.getElementById("tabs"), main = document.getElementById("processes");
  const sections = [];
  // Tabs grouped by executable (a build's hundred compiler processes are one group each), groups
  // in the order their first process appeared.
  const groups = new Map();
  for (const p of D.processes) {
    const P = decode(p), sec = renderProcess(P), exe = str(p.exe);
    const tab = h("button", { type: "button", role: "tab", "aria-controls": sec.id, "data-pid": p.pid },
                  "pid " + p.pid + " \u00b7 " + plural(P.regions.length, "region"));
    tab.addEventListener("click", () => select(sections.indexOf(entry)));
    const entry = { tab, sec };
    sections.push(entry);
    let group = groups.get(exe ?? "?");
    if (!group) {
      group = h("div", { class: "tabgroup", role: "group", "data-exe": exe ?? "?", "aria-label": exe ?? "unknown executable" },
                h("span", { class: "exe", title: exe ?? "" }, exe ? base(exe) : "?"));
      groups.set(exe ?? "?", group);
      tabs.append(group);
    }
    group.append(tab);
    group.setAttribute("data-processes", group.querySelectorAll("button").length);
    main.append(sec);
  }
  document.body.setAttribute("data-executable-count", groups.size);
  function select(index) {
    sections.forEach((s, i) => { s.sec.hidden = i !== index; s.tab.setAttribute("aria-selected", String(i === index)); });
  }
  tabs.hidden = sections.length < 2;
  if (D.folded) main.prepend(h("p", { class: "note", id: "folded" }, D.folded));  // short processes: one line, no tabs
  if (sections.length) select(0); else main.append(h("p", { class: "muted" }, "No process was traced."));
  document.body.setAttribute("data-process-count", sections.length);
  document.body.setAttribute("data-rendered", "true");
}

try { main(); } catch (e) { fail("The report could not be drawn: " + (e && e.stack ? e.stack : e)); }
})();
