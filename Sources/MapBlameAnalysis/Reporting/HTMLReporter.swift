import MapBlameModel

/// The interactive report: one self-contained HTML file (inline CSS and vanilla JavaScript, nothing
/// fetched from the network) showing, per process, the address space as a picture (regions as bands
/// on a log scale, gaps folded), each region's origins with their backtraces, a timeline of the
/// calls behind today's regions on a time axis (with the peaks, and a range selection that filters
/// the tables), a sortable table of sites, the call tree (icicle and list) and a legend of categories.
///
/// The report travels as JSON in a `<script type="application/json">` element (see
/// `HTMLReportData`) and the page's script builds the view with DOM calls (`textContent`,
/// `setAttribute`, never `innerHTML`), so names from the traced program are never parsed as markup.
/// The JSON is plain ASCII with `<`, `>`, `&` escaped as `\u003c`..., so nothing in it can end the
/// element. The only other program text in the page, the command in `<title>` and in the header
/// shown without JavaScript, is HTML-escaped.
///
/// After rendering, the page marks what it drew for tools and tests: `body[data-rendered]`, and
/// per process `section[data-pid][data-region-count][data-site-count][data-event-count]` and the
/// address-space picture's `[data-bands]` (regions drawn) and `[data-visible-bands]` (those shown
/// by the "anonymous only" toggle), the time axis `svg.timeaxis[data-t-min][data-t-max]` with its
/// peak markers `[data-peak][data-time]`, the selected range `section[data-range]`, the sites
/// table's `tbody[data-rows]`, the call tree's `.calltree[data-total][data-nodes]`, and the tab
/// groups `.tabgroup[data-exe][data-processes]` with `body[data-executable-count]`.
public enum HTMLReporter {
    /// `foldShortProcesses`: processes with nothing of their own (`ShortProcesses`) get one line
    /// instead of a tab each.
    public static func render(_ report: Report, foldShortProcesses: Bool = true) -> String {
        var report = report
        var folded: String?
        if foldShortProcesses {
            let (shown, short) = ShortProcesses.split(report.processes)
            if !short.isEmpty {
                report.processes = shown
                folded = ShortProcesses.line(short)
            }
        }
        let command = report.command.joined(separator: " ")
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="mapblame">
            <title>mapblame: \(htmlText(command))</title>
            <style>
            \(style)</style>
            </head>
            <body>
            <header><h1>mapblame</h1><code id="command">\(htmlText(command))</code></header>
            <noscript><p class="error">This report draws itself with JavaScript, which is turned off.
            The same data is in <code>mapblame run --json</code>.</p></noscript>
            <div id="error" class="error" hidden></div>
            <nav id="tabs" role="tablist"></nav>
            <main id="processes"></main>
            <div id="tip" class="tip" hidden></div>
            <script type="application/json" id="mapblame-data">
            """
        page += HTMLReportData.json(report, folded: folded)
        page += "</script>\n<script>\n" + script + "</script>\n</body>\n</html>\n"
        return page
    }

    /// The page's script (Resources/report.js): builds everything with DOM calls; no string from
    /// the report is ever parsed as HTML.
    /// The views of report-time.js and report-tree.js come first: they register themselves for
    /// report.js, which draws the page when it runs.
    package static let script = [PackageResources.report_time_js, PackageResources.report_tree_js, PackageResources.report_js]
        .map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")

    /// The page's stylesheet (Resources/report.css). Category colours live in the script (the SVG
    /// needs them too).
    package static let style = String(decoding: PackageResources.report_css, as: UTF8.self)

    /// Text for an HTML text node or a quoted attribute value. C0 controls (but tab and newline),
    /// DEL and C1 controls are parse errors in HTML text (NUL is dropped or replaced by browsers), so
    /// they become U+FFFD: a visible mark, never a silently different name.
    package static func htmlText(_ s: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(s.unicodeScalars.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            case "\u{00}"..."\u{1F}", "\u{7F}"..."\u{9F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
