import Glibc
import Testing
@testable import MapBlameModel

/// `ProcfsBytes`: maps and smaps parsed by bytes give what the Character parsers give, on the
/// kernel's own texts and on every odd text (where they decline and the Character parser answers).
@Suite struct ProcfsBytesTests {
    /// parseMaps's answer (the entries, or the error) and the Character parser's.
    static func mapsAgree(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let fast = Result { () throws(ProcfsParseError) in try MapsEntry.parseMaps(text) }
        let slow = Result { () throws(ProcfsParseError) in try MapsEntry.parseMapsByCharacters(text) }
        #expect(fast == slow, "\(text.debugDescription)", sourceLocation: sourceLocation)
        if let plain = ProcfsBytes.maps(text) { #expect(Result.success(plain) == slow, sourceLocation: sourceLocation) }
    }

    static func smapsAgree(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let fast = Result { () throws(ProcfsParseError) in try SmapsUsage.parseSmaps(text) }
        let slow = Result { () throws(ProcfsParseError) in try SmapsUsage.parseSmapsByCharacters(text) }
        #expect(fast == slow, "\(text.debugDescription)", sourceLocation: sourceLocation)
        if let plain = ProcfsBytes.smaps(text) { #expect(Result.success(plain) == slow, sourceLocation: sourceLocation) }
    }

    @Test("This process's and its parent's maps and smaps: the byte parser takes them, with the same entries")
    func kernelTexts() throws {
        for pid in ["self", String(getppid())] {
            let maps = try #require(ProcFile.read("/proc/\(pid)/maps")), smaps = try #require(ProcFile.read("/proc/\(pid)/smaps"))
            let entries = try #require(ProcfsBytes.maps(maps))
            #expect(entries.count > 5 && entries.contains { $0.path.hasPrefix("/") } && entries.contains { $0.path.isEmpty })
            #expect(entries == (try MapsEntry.parseMapsByCharacters(maps)))
            let usage = try #require(ProcfsBytes.smaps(smaps))
            #expect(usage.count > 5 && usage.values.contains { $0.rss > 0 })
            #expect(usage == (try SmapsUsage.parseSmapsByCharacters(smaps)))
        }
    }

    static let line = "7f1dba95a000-7f1dba988000 rw-p 00001000 fe:01 1180246                    /usr/lib/x.so"

    @Test("Odd maps texts: the same entries or the same error, line number included")
    func oddMaps() {
        let line = Self.line
        let texts = [
            "", "\n\n", line, line + "\n", "\n" + line + "\n\n" + line,
            "1000-2000 r--p 0 00:00 0", "1000-2000 r--p 0 00:00 0 ", "1000-2000 r--p 0 00:00 0      [heap]",
            "1000-2000 r-xp 0 08:01 12 /tmp/with space/f (deleted)", "1000-2000 r-xp 0 08:01 12 /tmp/caf\u{e9}.so",
            "1000-2000 r-xp 0 08:01 12  \u{301}x", "1000-2000 r--p 0 00:00 0\r\n3000-4000 r--p 0 00:00 0\n",
            "  1000-2000   r--p   0   00:00   0   x", "+1000-2000 r--p 0 00:00 0", "1000-+2000 r--p 0 00:00 0",
            "1000-2000 r--p +0 00:00 0", "1000-2000 r--p 0 00:00 +5", "1000-2000 r--p 0 00:00 -0",
            "2000-1000 r--p 0 00:00 0", "1000-2000-3000 r--p 0 00:00 0", "10000000000000000-2 r--p 0 00:00 0",
            "0000000000000000001000-2000 r--p 0 00:00 0", "FFFFFFFFFFFFFFFF-FFFFFFFFFFFFFFFF r--p 0 00:00 0",
            "1000-2000 r--pp 0 00:00 0", "1000-2000 r--p 0 0000 0", "1000-2000 r--p 0 00:00 18446744073709551616",
            "1000-2000 r--p 0 00:00 18446744073709551615", "1000-2000 r--p 0 00:00", "1000-2000", "   ",
            "1000-2000\tr--p 0 00:00 0", line + "\ngarbage\n" + line, "1000-2000 r--p g 00:00 0",
        ]
        for text in texts { Self.mapsAgree(text) }
        #expect(ProcfsBytes.maps(line + "\n" + line)?.count == 2)
        #expect(ProcfsBytes.maps("1000-2000 r-xp 0 08:01 12 /tmp/caf\u{e9}.so") == nil)  // not ASCII: by Character
        #expect(ProcfsBytes.maps("1000-2000 r--p 0 00:00 +5") == nil)
    }

    @Test("Odd smaps texts: the same usage or the same error")
    func oddSmaps() {
        let head = "1000-3000 rw-p 00000000 00:00 0 \n"
        let texts = [
            "", head, head + "Rss:                   8 kB\nAnonymous:   4 kB\nSwap: 0 kB\nPss: 1 kB\n",
            head + "Rss: 8 kB\n" + head + "Rss: 12 kB\n", "Rss: 8 kB\n" + head, head + "Rss: 8\n", head + "Rss: 8 MB\n",
            head + "Rss:\n", head + "Rss: x kB\n", head + "Rss: +8 kB\n", head + "Rss: 18014398509481984 kB\n",
            head + "Rss: 18014398509481984\n", head + "Rss: 8 kB extra words\n", head + "Rss:\t8 kB\n",
            head + "Rss:8 kB\n", head + "VmFlags: rd wr mr mw me ac\n", head + "THPeligible:    0\n",
            head + "Rss: 8  kB\n", head + "Rss: 8 kb\n", head + "Rss : 8 kB\n", head + "R-s: 8 kB\n",
            "1000-3000 rw-p 00000000 00:00 0 /x:y\nRss: 4 kB\n", "1000-3000 rw-p 00000000 00:00 0 /caf\u{e9}\nRss: 4 kB\n",
            head + "Rss: 8 kB\r\nSwap: 4 kB\n", "bad header\nRss: 4 kB\n", head + "Anonymous: 99999999999999999999 kB\n",
            head + "Swap: 0 kB", "\n" + head + "\nRss: 4 kB\n\n",
        ]
        for text in texts { Self.smapsAgree(text) }
        #expect(ProcfsBytes.smaps(head + "Rss: 8 kB\nAnonymous: 4 kB\nSwap: 2 kB\n")?[0x1000]
            == SmapsUsage(rss: 8192, anonymous: 4096, swap: 2048))
    }

    /// statusField's answer and the Character way's (what statusField was before the byte path).
    static func statusAgrees(_ status: String, _ key: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let slow = status.split(separator: "\n").first { $0.hasPrefix(key + ":") }.map { $0.dropFirst(key.count + 1).trimmingWhitespace }
        #expect(ProcFile.statusField(status, key) == slow, "\(key) in \(status.debugDescription)", sourceLocation: sourceLocation)
        if let plain = ProcfsBytes.statusField(status, key) { #expect(plain == slow, sourceLocation: sourceLocation) }
    }

    @Test("Status fields: this process's by bytes, odd texts the Character way, the same values")
    func statusFields() throws {
        let status = try #require(ProcFile.read("/proc/self/status"))
        for key in ["Name", "Tgid", "Uid", "Gid", "NSpid", "SigPnd", "Umask", "TracerPid", "VmRSS", "Missing", "Ui", ""] {
            Self.statusAgrees(status, key)
        }
        #expect(ProcfsBytes.statusField(status, "Tgid") == .some(String(getpid())))
        #expect(ProcfsBytes.statusField(status, "Missing") == .some(nil))
        let odd = ["Name:\tcaf\u{e9}\nTgid:\t12\n", "Tgid:\t12\r\nPid:\t3\n", "Tgid:  \t 12 \t \n", "Tgid:\n", "\n\nTgid:7",
                   "Tgids:\t1\nTgid:\t2\n", "Tgid:\u{301}\t5\nTgid:\t6\n", "x\nTgid:\t1\nTgid:\t2\n"]
        for text in odd {
            for key in ["Tgid", "Pid", "Name"] { Self.statusAgrees(text, key) }
        }
        #expect(ProcfsBytes.statusField("Name:\tcaf\u{e9}\nTgid:\t12\n", "Tgid") == nil)  // not ASCII: by Character
    }
}
