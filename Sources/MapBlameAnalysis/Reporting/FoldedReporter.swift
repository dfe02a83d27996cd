import MapBlameModel

/// Collapsed stacks ("folded" format) for flame graphs: one line per unique stack per process,
/// `frame;frame;frame weight`, outermost frame first, as flamegraph.pl, inferno and speedscope read
/// them. The stack of a byte range is
///
///     pid 1234 (exe basename);category;outermost frame;...;innermost frame
///
/// where the frames are those of the event that created the bytes (its backtrace at the syscall).
/// Bytes with no creating event get one synthetic frame instead, so they still count: `[kernel] stack`
/// for what the kernel made itself, `[untraced]` for bytes no traced call explains (category
/// `unknown`), and regions set up at exec (whose synthesized event has no backtrace) get `[exec]`.
public enum FoldedReporter {
    public enum Weight: String, Sendable, CaseIterable {
        /// Mapped bytes of each origin.
        case bytes
        /// Each origin's share of its region's resident bytes (smaps gives RSS per region only).
        case rss
        /// 1 per origin (byte range with one creating event).
        case count
    }

    public static func render(_ report: Report, weight: Weight = .bytes) -> String {
        var out = ""
        for process in report.processes {
            let events = Dictionary(process.events.map { ($0.event.id, $0) }, uniquingKeysWith: { a, _ in a })
            var weights: [String: UInt64] = [:]
            let root = frameName(rootFrame(process))
            for region in process.regions {
                let older = region.evidence != nil ? (report.attached ? "[before attach]" : "[evidence]")
                    : (report.attached ? "[before attach]" : nil)
                for (origin, share) in zip(region.origins, region.rssShares) {
                    let w: UInt64
                    switch weight {
                    case .bytes: w = UInt64(origin.range.count)
                    case .rss: w = share
                    case .count: w = 1
                    }
                    guard w > 0 else { continue }  // a zero line adds nothing to any flame graph
                    var below = originFrames(origin, event: origin.event.flatMap { events[$0] })
                    // Seeded from evidence when the attach began (no syscall: not the kernel's).
                    if let older, origin.event == nil, origin.syscall == nil { below = [older] }
                    let frames = [root, frameName(origin.category.rawValue)] + below
                    weights[frames.joined(separator: ";"), default: 0] += w
                }
            }
            // Sorted, so equal reports give byte-identical output (the tools sort anyway).
            for (stack, w) in weights.sorted(by: { $0.key < $1.key }) {
                out += "\(stack) \(w)\n"
            }
        }
        return out
    }

    /// "pid 1234 (python3.11)".
    package static func rootFrame(_ p: ProcessReport) -> String {
        guard let exe = p.executable, let base = exe.split(separator: "/").last else { return "pid \(p.pid)" }
        return "pid \(p.pid) (\(base))"
    }

    /// The frames below the category, outermost first, already made safe.
    package static func originFrames(_ origin: Origin, event: EventReport?) -> [String] {
        guard let event else {
            return [origin.category == .unknown ? "[untraced]" : "[kernel] \(origin.category.rawValue)"]
        }
        if event.stack.isEmpty {
            // The synthesized exec event has no backtrace; a call recorded with --frames 0 neither.
            return event.event.syscall == .execve ? ["[exec]"] : []
        }
        return event.stack.reversed().map { frameName(name(of: $0)) }
    }

    /// The function, or `module+0xoffset` when it is unknown: `shortDescription` without the
    /// `(file:line)` part. Flame graphs merge sibling frames by name only, so with line numbers one
    /// function calling mmap (or malloc) from three lines would be three boxes instead of one box of
    /// their sum; the exact call lines are in the text and JSON reports.
    package static func name(of frame: SymbolizedFrame) -> String {
        var plain = frame
        plain.file = nil
        plain.line = nil
        return plain.shortDescription
    }

    /// Makes a name safe for one field of a folded line: `;` separates frames, so it becomes `,`;
    /// control characters (newlines would end the line) become spaces; an empty name becomes `??`.
    /// Spaces are fine: the weight is the text after the last space.
    package static func frameName(_ name: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(name.unicodeScalars.count)
        for scalar in name.unicodeScalars {
            switch scalar {
            case ";": out += ","
            case "\u{00}"..."\u{1F}", "\u{7F}", "\u{85}", "\u{2028}", "\u{2029}": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out.isEmpty ? "??" : out
    }
}
