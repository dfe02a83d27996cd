extension HTMLReporter {
    /// The page's script, second half: the timeline (an SVG), the sortable table of sites, the tabs
    /// and the start-up code. Closes the function `scriptCore` opens.
    static let scriptPanels = #"""
        // MARK: timeline

        function renderTimeline(P) {
          const wrap = h("div", { class: "timeline" }, h("h3", null, "Timeline of the calls behind today's regions"));
          const n = P.events.length, nc = CATS.length;
          const listed = P.events.filter(e => e.syscall !== "execve").length;
          wrap.append(h("p", { class: "note" },
            "Bytes of the final map, stacked by category and added up in the order of the calls that created them " +
            "(x is call order, not time: the report has no timestamps). Only the calls behind today's regions are " +
            "in the report: " + listed + (P.p.recorded >= listed ? " of the " + P.p.recorded + " mapping calls recorded" : "") +
            ", plus the exec that set up the first regions. Memory that was " +
            "unmapped or replaced before exit, and the calls that did it, do not show, so this is how the final map " +
            "was built up, not the peak. Resident bytes are known only at exit (the bar on the right)."));
          if (!n) { wrap.append(h("p", { class: "muted" }, "No calls to draw.")); return wrap; }
          const position = new Map(P.events.map((e, k) => [e.id, k]));
          const mapped = new Float64Array(n * nc), anon = new Float64Array(n * nc), resident = new Float64Array(nc);
          let untraced = 0;
          for (const r of P.regions) for (const o of r.origins) {
            const c = CATINDEX.get(o.cat), k = o.event == null ? undefined : position.get(o.event);
            resident[c] += rssShare(r, o);
            if (k === undefined) { untraced += o.size; continue; }
            mapped[k * nc + c] += o.size;
            if (r.inode === 0) anon[k * nc + c] += o.size;
          }
          if (untraced) wrap.lastChild.append(" " + bytes(untraced) + " that no call created (made by the kernel, or " +
                                              "unexplained) are left out of the curve.");
          const select = h("select", { "aria-label": "quantity" }, h("option", { value: "mapped" }, "mapped bytes"),
                           h("option", { value: "anon" }, "anonymous bytes (regions without a file)"));
          const holder = h("div");
          const draw = () => holder.replaceChildren(timelineSVG(P, select.value === "anon" ? anon : mapped, resident, select.value));
          select.addEventListener("change", draw);
          wrap.append(h("div", { class: "controls" }, h("label", null, "show ", select)), holder);
          draw();
          return wrap;
        }

        function timelineSVG(P, perEvent, resident, mode) {
          const n = P.events.length, nc = CATS.length, B = Math.min(n, 400);
          const W = 1000, H = 290, L = 76, R = 150, T = 12, Bm = 44, pw = W - L - R, ph = H - T - Bm;
          const ends = Array.from({ length: B }, (_, b) => Math.ceil(((b + 1) * n) / B) - 1);
          const cum = [], running = new Float64Array(nc);
          let k = 0;
          for (const end of ends) {
            for (; k <= end; k++) for (let c = 0; c < nc; c++) running[c] += perEvent[k * nc + c];
            cum.push(Float64Array.from(running));
          }
          const last = cum[B - 1], total = last.reduce((a, b) => a + b, 0);
          const residentTotal = resident.reduce((a, b) => a + b, 0);
          const ymax = Math.max(total, residentTotal, 1);
          // A step chart: bucket b (the calls up to ends[b]) spans x(b)..x(b + 1) at its cumulative level.
          const x = b => L + (b / B) * pw, y = v => T + ph - (v / ymax) * ph;
          const steps = level => { const pts = []; for (let b = 0; b < B; b++) pts.push(x(b).toFixed(1) + "," + level(b), x(b + 1).toFixed(1) + "," + level(b)); return pts; };
          const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "data-points": B,
                                    "aria-label": "timeline of " + mode + " bytes" });
          for (let g = 0; g <= 4; g++) {
            const v = (ymax * g) / 4;
            root.append(svg("line", { x1: L, x2: L + pw, y1: y(v), y2: y(v), stroke: "#e3e6ea" }),
                        svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", fill: "#6b7480" }, bytes(Math.round(v))));
          }
          const lower = new Float64Array(B);
          for (let c = 0; c < nc; c++) {
            if (!last[c]) continue;  // cumulative: zero at the end is zero throughout
            const bottom = steps(b => y(lower[b]).toFixed(1));
            for (let b = 0; b < B; b++) lower[b] += cum[b][c];
            const top = steps(b => y(lower[b]).toFixed(1));
            root.append(svg("polygon", { points: top.concat(bottom.reverse()).join(" "), fill: COLOR[CATS[c]],
                                         "fill-opacity": 0.85, stroke: COLOR[CATS[c]], "data-category": CATS[c] },
                            svg("title", null, CATS[c] + ": " + bytes(last[c]))));
          }
          // Number of calls so far, on its own scale (a dashed line up to the top right corner).
          const calls = steps(b => (T + ph - ((ends[b] + 1) / n) * ph).toFixed(1));
          root.append(svg("polyline", { points: calls.join(" "), fill: "none", stroke: "#1d2430", "stroke-dasharray": "4 3" }),
                      svg("text", { x: L + pw - 4, y: T + 12, "text-anchor": "end", fill: "#1d2430" }, plural(n, "call") + " (dashed)"));
          // Resident at exit, stacked by category.
          const rx = L + pw + 24;
          let acc = 0;
          for (let c = 0; c < nc; c++) {
            if (!resident[c]) continue;
            root.append(svg("rect", { x: rx, width: 34, y: y(acc + resident[c]), height: Math.max(0.5, y(acc) - y(acc + resident[c])),
                                      fill: COLOR[CATS[c]] }, svg("title", null, CATS[c] + ": " + bytes(resident[c]) + " resident at exit")));
            acc += resident[c];
          }
          root.append(svg("text", { x: rx + 17, y: T + ph + 16, "text-anchor": "middle", fill: "#6b7480" }, "resident"),
                      svg("text", { x: rx + 17, y: T + ph + 29, "text-anchor": "middle", fill: "#6b7480" }, "at exit"),
                      svg("text", { x: rx + 40, y: y(residentTotal) + 4, fill: "#1d2430" }, bytes(residentTotal)),
                      svg("line", { x1: L, x2: L + pw, y1: T + ph, y2: T + ph, stroke: "#6b7480" }),
                      svg("text", { x: L, y: T + ph + 16, fill: "#6b7480" }, "#" + P.events[0].id),
                      svg("text", { x: L + pw, y: T + ph + 16, "text-anchor": "end", fill: "#6b7480" }, "#" + P.events[n - 1].id),
                      svg("text", { x: L + pw / 2, y: T + ph + 32, "text-anchor": "middle", fill: "#6b7480" },
                          "calls in the order they were made \u2192  (" + bytes(total) + " " + (mode === "anon" ? "anonymous" : "mapped") + " at the end)"));
          const guide = svg("line", { y1: T, y2: T + ph, stroke: "#2f6fdd", visibility: "hidden" });
          const hit = svg("rect", { x: L, y: T, width: pw, height: ph, fill: "transparent" });
          root.append(guide, hit);
          hit.addEventListener("mousemove", ev => {
            const box = root.getBoundingClientRect(), sx = ((ev.clientX - box.left) / box.width) * W;
            const b = Math.max(0, Math.min(B - 1, Math.floor(((sx - L) / pw) * B)));
            const e = P.events[ends[b]], sum = cum[b].reduce((a, v) => a + v, 0);
            const gx = (x(b) + x(b + 1)) / 2;
            guide.setAttribute("x1", gx); guide.setAttribute("x2", gx); guide.setAttribute("visibility", "visible");
            const own = CATS.map((c, i) => [c, perEvent[ends[b] * nc + i]]).filter(v => v[1] > 0);
            showTip(ev, ["after call #" + e.id + " of " + n + " listed: " + e.syscall + (e.syscall === "execve" ? "" : " in thread " + e.tid),
                         e.stack.length ? "from " + e.stack.map(frameShort).slice(0, 4).join(" \u2190 ") : "no backtrace",
                         ...own.map(([c, v]) => "this call: " + bytes(v) + " " + c),
                         "so far: " + bytes(sum) + " " + (mode === "anon" ? "anonymous" : "mapped") + " in " + (ends[b] + 1) + " calls"]);
          });
          hit.addEventListener("mouseleave", () => { guide.setAttribute("visibility", "hidden"); hideTip(); });
          return root;
        }

        // MARK: sites

        function renderSites(P, section) {
          const groups = new Map();
          for (const r of P.regions) for (const o of r.origins) {
            const name = o.site != null ? frameShort(o.site) : o.label, key = o.cat + "\u0000" + name;
            let g = groups.get(key);
            if (!g) groups.set(key, (g = { cat: o.cat, name, rss: 0, mapped: 0, count: 0, items: [] }));
            g.rss += rssShare(r, o); g.mapped += o.size; g.count++; g.items.push(o);
          }
          const all = [...groups.values()];
          section.setAttribute("data-site-count", all.length);
          const columns = [["name", "site", false], ["cat", "category", false], ["rss", "rss (share)", true],
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
          for (const p of D.processes) {
            const P = decode(p), sec = renderProcess(P), exe = str(p.exe);
            const tab = h("button", { type: "button", role: "tab", "aria-controls": sec.id, "data-pid": p.pid },
                          "pid " + p.pid + (exe ? " " + base(exe) : "") + " \u00b7 " + plural(P.regions.length, "region"));
            tab.addEventListener("click", () => select(sections.indexOf(entry)));
            const entry = { tab, sec };
            sections.push(entry);
            tabs.append(tab);
            main.append(sec);
          }
          function select(index) {
            sections.forEach((s, i) => { s.sec.hidden = i !== index; s.tab.setAttribute("aria-selected", String(i === index)); });
          }
          tabs.hidden = sections.length < 2;
          if (sections.length) select(0); else main.append(h("p", { class: "muted" }, "No process was traced."));
          document.body.setAttribute("data-process-count", sections.length);
          document.body.setAttribute("data-rendered", "true");
        }

        try { main(); } catch (e) { fail("The report could not be drawn: " + (e && e.stack ? e.stack : e)); }
        })();

        """#
}
