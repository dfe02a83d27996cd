import Foundation
import Testing
@testable import MapBlame

/// The HTML report's views of issue 22 in headless chromium: the time axis with its peak markers
/// and a range selection that filters the sites table and the call tree, the "anonymous only"
/// toggle, processes grouped by executable, and label contrast (WCAG AA) on category colours.
/// Interactions are real DOM events dispatched by a script appended to the page; it writes what
/// it saw into attributes of a `#test-result` element, which `--dump-dom` shows.
@Suite("HTML views")
struct HTMLViewsTests {
    static let driver = """
        <script>
        (function () {
          const out = document.createElement("div"); out.id = "test-result";
          const sec = document.querySelector("section[data-pid]");
          const map = sec.querySelector(".map");
          out.setAttribute("data-bands-before", map.getAttribute("data-visible-bands"));
          sec.querySelector("input.anon-only").click();
          out.setAttribute("data-bands-anon", map.getAttribute("data-visible-bands"));
          out.setAttribute("data-file-bands-shown",
            [...map.querySelectorAll('.band[data-anonymous="0"]')].filter(b => b.getClientRects().length > 0).length);
          out.setAttribute("data-anon-bands-shown",
            [...map.querySelectorAll('.band[data-anonymous="1"]')].filter(b => b.getClientRects().length > 0).length);
          out.setAttribute("data-tree-before", sec.querySelector(".calltree").getAttribute("data-total"));
          out.setAttribute("data-rows-before", sec.querySelector("table.sites tbody").getAttribute("data-rows"));
          const axis = sec.querySelector("svg.timeaxis"), hit = axis.querySelector(".hit");
          const r = axis.getBoundingClientRect(), W = +axis.dataset.vw, L = +axis.dataset.x0, pw = +axis.dataset.pw;
          const fire = (type, f) => hit.dispatchEvent(new MouseEvent(type, {
            clientX: r.left + ((L + f * pw) / W) * r.width, clientY: r.top + r.height / 2, bubbles: true }));
          fire("mousedown", 0.5); fire("mousemove", 0.8); fire("mouseup", 1.0);
          out.setAttribute("data-range", sec.getAttribute("data-range"));
          out.setAttribute("data-rows-after", sec.querySelector("table.sites tbody").getAttribute("data-rows"));
          out.setAttribute("data-tree-after", sec.querySelector(".calltree").getAttribute("data-total"));
          document.body.append(out);
        })();
        </script>
        """

    static func attribute(_ name: String, in dom: String) -> String? {
        guard let tag = dom.range(of: #"<div id="test-result""#) else { return nil }
        let rest = dom[tag.upperBound...]
        guard let a = rest.range(of: " \(name)=\""), let end = rest[a.upperBound...].firstIndex(of: "\"") else { return nil }
        return String(rest[a.upperBound..<end])
    }

    /// WCAG 2 contrast ratio of two "#rrggbb" colours.
    static func contrast(_ a: String, _ b: String) -> Double {
        func luminance(_ hex: String) -> Double {
            let v = Int(hex.dropFirst(), radix: 16)!
            func linear(_ shift: Int) -> Double {
                let x = Double((v >> shift) & 0xff) / 255
                return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4)
            }
            let r: Double = 0.2126 * linear(16), g: Double = 0.7152 * linear(8), b: Double = 0.0722 * linear(0)
            return r + g + b
        }
        let x = luminance(a), y = luminance(b)
        return (max(x, y) + 0.05) / (min(x, y) + 0.05)
    }

    @Test func timeAxisPeaksRangeToggleAndContrastOfARealRun() throws {
        let chromium = try Chromium.require()
        let dir = try TemporaryDirectory()
        let trace = dir.path + "/peak.trace"
        let recorded = try runCommand([Build.mapblame, "record", "-o", trace, "--", Build.fixture, "peak"])
        try #require(recorded.status == 0, "mapblame record: \(recorded.stderr)")
        var builder = ReportBuilder(recording: try TraceReplayer.replay(path: trace), symbolizer: Symbolizer())
        let report = builder.build()
        let root = try #require(report.processes.first)
        let page = dir.path + "/peak.html"
        try HTMLReporter.render(report).replacingOccurrences(of: "</body>", with: Self.driver + "\n</body>")
            .write(toFile: page, atomically: true, encoding: .utf8)
        let dom = try chromium.dumpDOM(page)
        #expect(dom.contains(#"data-rendered="true""#) && !dom.contains("data-error"), "\(dom.prefix(3000))")
        try #require(dom.contains(#"id="test-result""#), "the driver ran")

        // The peaks are marked on the time axis, at their times.
        for peak in root.peaks {
            let time = try #require(peak.moment.time)
            #expect(dom.contains(#"data-peak="\#(peak.quantity.rawValue)" data-time="\#(time)""#), "\(peak.quantity) marker")
        }
        #expect(root.peaks.count == 2)

        // Anonymous only: the file-backed bands go, the others stay.
        let anonymous = root.regions.filter { $0.entry.inode == 0 }.count
        #expect(Self.attribute("data-bands-before", in: dom) == "\(root.regions.count)")
        #expect(Self.attribute("data-bands-anon", in: dom) == "\(anonymous)")
        #expect(Self.attribute("data-file-bands-shown", in: dom) == "0")
        #expect(Self.attribute("data-anon-bands-shown", in: dom) == "\(anonymous)")
        #expect(anonymous < root.regions.count)

        // The call tree weighs every non-file byte of today's regions; the range selection keeps
        // only the calls that returned inside it, in the tree and in the sites table.
        let events = Dictionary(root.events.map { ($0.event.id, $0.event) }, uniquingKeysWith: { a, _ in a })
        let origins = root.regions.flatMap(\.origins).filter { $0.category != .file }
        #expect(Self.attribute("data-tree-before", in: dom) == "\(origins.reduce(0) { $0 + $1.range.count })")
        let range = try #require(Self.attribute("data-range", in: dom)?.split(separator: "-").compactMap { UInt64($0) })
        try #require(range.count == 2 && range[0] < range[1], "a range was selected")
        let inside = origins.filter { o in
            guard let t = o.event.flatMap({ events[$0]?.time }) else { return false }
            return t >= range[0] && t <= range[1]
        }
        #expect(Self.attribute("data-tree-after", in: dom) == "\(inside.reduce(0) { $0 + $1.range.count })")
        let sites = Set(inside.map { "\($0.category.rawValue): " + ($0.site?.shortDescription ?? $0.label) })
        #expect(Self.attribute("data-rows-after", in: dom) == "\(sites.count)")
        #expect(Int(Self.attribute("data-rows-before", in: dom) ?? "") ?? 0 > sites.count)
        #expect(!inside.isEmpty, "the second half of the run made some of today's bytes")

        // Labels on category colours: AA (4.5:1) on every band and every icicle box drawn.
        let bands = try Regex(#"color:(#[0-9a-f]{6});background:linear-gradient\(90deg,(#[0-9a-f]{6})"#)
        var checked = 0
        for m in dom.matches(of: bands) {
            let ink = String(m.output[1].substring!), fill = String(m.output[2].substring!)
            #expect(Self.contrast(ink, fill) >= 4.5, "band label \(ink) on \(fill)")
            checked += 1
        }
        #expect(checked == root.regions.count)
        let boxes = try Regex(#"fill="(#[0-9a-f]{6})" rx="2"></rect><text x="[^"]*" y="[^"]*" fill="(#[0-9a-f]{6})""#)
        var labelled = 0
        for m in dom.matches(of: boxes) {
            let fill = String(m.output[1].substring!), ink = String(m.output[2].substring!)
            #expect(Self.contrast(ink, fill) >= 4.5, "icicle label \(ink) on \(fill)")
            labelled += 1
        }
        #expect(labelled > 3, "the icicle has labelled boxes")
    }

    /// Every category colour of the page has a text colour (black or white) at 4.5:1 or more.
    @Test func everyCategoryColourHasAnAALabelColour() throws {
        let script = HTMLReporter.script
        let table = try #require(script.firstRange(of: "const COLOR = {").flatMap { start in
            script[start.upperBound...].firstRange(of: "};").map { String(script[start.upperBound..<$0.lowerBound]) }
        })
        let pairs = table.matches(of: try Regex(#"([a-z-]+)"?: "(#[0-9a-f]{6})""#))
        #expect(pairs.count == Category.allCases.count)
        for m in pairs {
            let color = String(m.output[2].substring!)
            #expect(max(Self.contrast(color, "#000000"), Self.contrast(color, "#ffffff")) >= 4.5, "\(m.output[1].substring!) \(color)")
        }
    }

    /// Processes are grouped by executable: one group per executable, its processes in it.
    @Test func processesAreGroupedByExecutable() throws {
        let chromium = try Chromium.require()
        let dir = try TemporaryDirectory()
        let page = dir.path + "/groups.html"
        let report = FoldedReporterTests.report
        // Unfolded: a process with only memory its parent mapped would fold into the summary line.
        try HTMLReporter.render(report, foldShortProcesses: false).write(toFile: page, atomically: true, encoding: .utf8)
        let dom = try chromium.dumpDOM(page)
        let executables = Set(report.processes.map { $0.executable ?? "?" })
        #expect(dom.contains(#"data-executable-count="\#(executables.count)""#), "\(dom.prefix(2000))")
        #expect(dom.components(separatedBy: #"class="tabgroup""#).count - 1 == executables.count)
        for exe in executables {
            let count = report.processes.filter { ($0.executable ?? "?") == exe }.count
            #expect(dom.contains(#"data-exe="\#(exe.htmlEscaped)" aria-label="\#(exe == "?" ? "unknown executable" : exe.htmlEscaped)" data-processes="\#(count)""#),
                    "group \(exe)")
        }
    }
}
