import Glibc
import Testing
@testable import MapBlame

/// /proc/PID/maps and /proc/PID/smaps parsing, on fixed excerpts and on this test process.
@Suite struct ProcfsParserTests {

    // MARK: maps

    /// A maps excerpt as the kernel prints it (paths padded to column 74). Line 4 ends in a space
    /// right after the inode, as the kernel prints nameless regions; line 5 has no trailing space.
    static let mapsExcerpt = """
        55d4c3a00000-55d4c3a21000 r--p 00000000 fe:01 1180246                    /usr/bin/python3.11
        55d4c3a21000-55d4c3c8a000 r-xp 00021000 fe:01 1180246                    /usr/bin/python3.11
        55d4c4e1b000-55d4c4f2c000 rw-p 00000000 00:00 0                          [heap]
        7f1dba000000-7f1dba021000 rw-p 00000000 00:00 0\u{20}
        7f1dba021000-7f1dbe000000 ---p 00000000 00:00 0
        7f1dbe000000-7f1dbe400000 rw-p 00000000 00:00 0                          [anon:my arena]
        7f1dbe400000-7f1dbe500000 rw-s 00000000 00:01 4097                       /memfd:ring (deleted)
        7f1dbe500000-7f1dbe501000 r--p 00002000 fe:01 393222                     /tmp/build dir/lib with  spaces.so (deleted)
        7f1dbe600000-7f1dbe700000 rw-s 00000000 00:05 32769                      /SYSV00000000 (deleted)
        7f1dbe700000-7f1dbe710000 r--p 00010000 103:02 1311                      /home/u/My Files/data.bin
        7ffd1c2e4000-7ffd1c305000 rw-p 00000000 00:00 0                          [stack]
        7ffd1c3b6000-7ffd1c3ba000 r--p 00000000 00:00 0                          [vvar]
        7ffd1c3ba000-7ffd1c3bc000 r-xp 00000000 00:00 0                          [vdso]
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]

        """

    static func entry(_ start: UInt64, _ end: UInt64, _ perms: String, _ offset: UInt64, _ device: String,
                      _ inode: UInt64, _ path: String = "") -> MapsEntry {
        MapsEntry(start: start, end: end, perms: perms, offset: offset, device: device, inode: inode, path: path)
    }

    static let mapsExpected: [MapsEntry] = [
        entry(0x55d4_c3a0_0000, 0x55d4_c3a2_1000, "r--p", 0, "fe:01", 1_180_246, "/usr/bin/python3.11"),
        entry(0x55d4_c3a2_1000, 0x55d4_c3c8_a000, "r-xp", 0x21000, "fe:01", 1_180_246, "/usr/bin/python3.11"),
        entry(0x55d4_c4e1_b000, 0x55d4_c4f2_c000, "rw-p", 0, "00:00", 0, "[heap]"),
        entry(0x7f1d_ba00_0000, 0x7f1d_ba02_1000, "rw-p", 0, "00:00", 0),
        entry(0x7f1d_ba02_1000, 0x7f1d_be00_0000, "---p", 0, "00:00", 0),
        entry(0x7f1d_be00_0000, 0x7f1d_be40_0000, "rw-p", 0, "00:00", 0, "[anon:my arena]"),
        entry(0x7f1d_be40_0000, 0x7f1d_be50_0000, "rw-s", 0, "00:01", 4097, "/memfd:ring (deleted)"),
        entry(0x7f1d_be50_0000, 0x7f1d_be50_1000, "r--p", 0x2000, "fe:01", 393_222,
              "/tmp/build dir/lib with  spaces.so (deleted)"),
        entry(0x7f1d_be60_0000, 0x7f1d_be70_0000, "rw-s", 0, "00:05", 32769, "/SYSV00000000 (deleted)"),
        entry(0x7f1d_be70_0000, 0x7f1d_be71_0000, "r--p", 0x10000, "103:02", 1311, "/home/u/My Files/data.bin"),
        entry(0x7ffd_1c2e_4000, 0x7ffd_1c30_5000, "rw-p", 0, "00:00", 0, "[stack]"),
        entry(0x7ffd_1c3b_6000, 0x7ffd_1c3b_a000, "r--p", 0, "00:00", 0, "[vvar]"),
        entry(0x7ffd_1c3b_a000, 0x7ffd_1c3b_c000, "r-xp", 0, "00:00", 0, "[vdso]"),
        entry(0xffff_ffff_ff60_0000, 0xffff_ffff_ff60_1000, "--xp", 0, "00:00", 0, "[vsyscall]"),
    ]

    @Test("parseMaps reads every field of a realistic excerpt")
    func parseMapsExcerpt() throws {
        #expect(Self.mapsExcerpt.contains("00:00 0 \n"), "the trailing-space line must survive in the literal")
        let entries = try MapsEntry.parseMaps(Self.mapsExcerpt)
        #expect(entries.count == Self.mapsExpected.count)
        for (i, (got, want)) in zip(entries, Self.mapsExpected).enumerated() {
            #expect(got == want, "line \(i + 1)")
        }
    }

    @Test("derived properties: size, shared, file-backed, unnamed, pseudo-path")
    func derivedProperties() throws {
        let e = try MapsEntry.parseMaps(Self.mapsExcerpt)
        #expect(e.map(\.size)[0] == 0x21000)
        #expect(e.last?.size == 0x1000)
        #expect(e.map(\.isShared) == [false, false, false, false, false, false, true, false, true, false,
                                      false, false, false, false])
        #expect(e.map(\.isFile) == [true, true, false, false, false, false, true, true, true, true,
                                    false, false, false, false])
        #expect(e.map(\.isUnnamed) == [false, false, false, true, true, false, false, false, false, false,
                                       false, false, false, false])
        #expect(e.map(\.isPseudo) == [false, false, true, false, false, true, false, false, false, false,
                                      true, true, true, true])
    }

    @Test("parseMaps of an empty text is empty; a trailing newline is optional")
    func parseMapsEdges() throws {
        #expect(try MapsEntry.parseMaps("").isEmpty)
        let one = "7f00-8000 rw-p 00000000 00:00 0"
        #expect(try MapsEntry.parseMaps(one) == [Self.entry(0x7f00, 0x8000, "rw-p", 0, "00:00", 0)])
        #expect(try MapsEntry.parseMaps(one + "\n") == [Self.entry(0x7f00, 0x8000, "rw-p", 0, "00:00", 0)])
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var line: String
        var reason: String
        var testDescription: String { "\(reason): \(line)" }
    }

    static let malformed: [Malformed] = [
        Malformed(line: "not a maps line", reason: "bad address range"),
        Malformed(line: "7f0000001000 rw-p 00000000 00:00 0", reason: "bad address range"),
        Malformed(line: "7f00-7fgg rw-p 00000000 00:00 0", reason: "bad address range"),
        Malformed(line: "8000-7000 rw-p 00000000 00:00 0", reason: "bad address range"),
        Malformed(line: "-8000 rw-p 00000000 00:00 0", reason: "bad address range"),
        Malformed(line: "   ", reason: "bad address range"),
        Malformed(line: "7000-8000 rw- 00000000 00:00 0", reason: "bad permissions"),
        Malformed(line: "7000-8000 rw-pp 00000000 00:00 0", reason: "bad permissions"),
        Malformed(line: "7000-8000", reason: "bad permissions"),
        Malformed(line: "7000-8000 rw-p", reason: "bad offset"),
        Malformed(line: "7000-8000 rw-p 0000zz00 00:00 0", reason: "bad offset"),
        Malformed(line: "7000-8000 rw-p 00000000 0000 0", reason: "bad device"),
        Malformed(line: "7000-8000 rw-p 00000000", reason: "bad device"),
        Malformed(line: "7000-8000 rw-p 00000000 00:00", reason: "bad inode"),
        Malformed(line: "7000-8000 rw-p 00000000 00:00 x12 /lib/a.so", reason: "bad inode"),
        Malformed(line: "7000-8000 rw-p 00000000 00:00 -1", reason: "bad inode"),
    ]

    @Test("a malformed line throws ProcfsParseError naming its line number", arguments: malformed)
    func malformedLine(_ m: Malformed) throws {
        // Two good lines first, so the bad one is line 3.
        let good = Self.mapsExcerpt.split(separator: "\n").prefix(2).joined(separator: "\n")
        let text = good + "\n" + m.line + "\n" + "7f00-8000 rw-p 00000000 00:00 0\n"
        let error = #expect(throws: ProcfsParseError.self) { try MapsEntry.parseMaps(text) }
        #expect(error?.line == 3)
        #expect(error?.text == m.line)
        #expect(error?.reason == m.reason)
        #expect(error?.description == "line 3: \(m.reason): \(m.line)")
    }

    @Test("the line number counts every line: first line, and line 15 after the whole excerpt")
    func malformedLineNumbers() {
        let first = #expect(throws: ProcfsParseError.self) { try MapsEntry.parseMaps("junk\n" + Self.mapsExcerpt) }
        #expect(first?.line == 1)
        let last = #expect(throws: ProcfsParseError.self) { try MapsEntry.parseMaps(Self.mapsExcerpt + "junk\n") }
        #expect(last?.line == 15)
    }

    @Test("blank lines still count when numbering the malformed line")
    func malformedLineAfterBlankLine() {
        let text = "7000-8000 rw-p 00000000 00:00 0\n\n\njunk\n"
        let error = #expect(throws: ProcfsParseError.self) { try MapsEntry.parseMaps(text) }
        #expect(error?.line == 4)
    }

    // MARK: smaps

    static let smapsExcerpt = """
        55d4c3a00000-55d4c3a21000 r--p 00000000 fe:01 1180246                    /usr/bin/python3.11
        Size:                132 kB
        KernelPageSize:        4 kB
        MMUPageSize:           4 kB
        Rss:                 128 kB
        Pss:                  64 kB
        Pss_Dirty:             0 kB
        Shared_Clean:        128 kB
        Shared_Dirty:          0 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Referenced:          128 kB
        Anonymous:             0 kB
        KSM:                   0 kB
        LazyFree:              0 kB
        AnonHugePages:         0 kB
        ShmemPmdMapped:        0 kB
        FilePmdMapped:         0 kB
        Shared_Hugetlb:        0 kB
        Private_Hugetlb:       0 kB
        Swap:                  0 kB
        SwapPss:               0 kB
        Locked:                0 kB
        THPeligible:           0
        VmFlags: rd mr mw me dw sd
        7f1dbe000000-7f1dbe400000 rw-p 00000000 00:00 0                          [anon:my arena]
        Size:               4096 kB
        KernelPageSize:        4 kB
        MMUPageSize:           4 kB
        Rss:                1500 kB
        Pss:                1500 kB
        Anonymous:          1500 kB
        AnonHugePages:      1024 kB
        Swap:                 12 kB
        SwapPss:              12 kB
        Locked:                0 kB
        THPeligible:           1
        ProtectionKey:         0
        VmFlags: rd wr mr mw me ac sd
        7f1dbe400000-7f1dbe500000 rw-s 00000000 00:01 4097                       /memfd:ring (deleted)
        Size:               1024 kB
        Rss:                   8 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        VmFlags: rd wr sh mr mw me ms sd
        7ffd1c3ba000-7ffd1c3bc000 r-xp 00000000 00:00 0                          [vdso]
        Size:                  8 kB
        VmFlags: rd ex mr mw me de sd
        """

    @Test("parseSmaps: Rss/Anonymous/Swap in kB become bytes, keyed by region start; other fields are ignored")
    func parseSmapsExcerpt() throws {
        let usage = try SmapsUsage.parseSmaps(Self.smapsExcerpt)
        #expect(usage == [
            0x55d4_c3a0_0000: SmapsUsage(rss: 128 * 1024, anonymous: 0, swap: 0),
            0x7f1d_be00_0000: SmapsUsage(rss: 1500 * 1024, anonymous: 1500 * 1024, swap: 12 * 1024),
            0x7f1d_be40_0000: SmapsUsage(rss: 8 * 1024, anonymous: 0, swap: 0),
            0x7ffd_1c3b_a000: SmapsUsage(),
        ])
    }

    @Test("parseSmaps: a field before any region header throws with its line number")
    func smapsFieldBeforeRegion() {
        let error = #expect(throws: ProcfsParseError.self) { try SmapsUsage.parseSmaps("Rss: 4 kB\n") }
        #expect(error?.line == 1)
        #expect(error?.reason == "field before any region")
    }

    @Test("parseSmaps: a bad Rss value or a malformed header throws with its line number")
    func smapsBadValues() {
        let badValue = Self.smapsExcerpt.replacing("Rss:                1500 kB",
                                                              with: "Rss:                lots kB")
        let e1 = #expect(throws: ProcfsParseError.self) { try SmapsUsage.parseSmaps(badValue) }
        #expect(e1?.line == 30)
        #expect(e1?.reason == "bad Rss value")
        let badHeader = Self.smapsExcerpt.replacing("7f1dbe400000-7f1dbe500000 rw-s",
                                                               with: "7f1dbe400000-7f1dbe500000 rw-")
        let e2 = #expect(throws: ProcfsParseError.self) { try SmapsUsage.parseSmaps(badHeader) }
        #expect(e2?.line == 40)
        #expect(e2?.reason == "bad permissions")
    }

    // MARK: this process

    @Test("the real /proc/self/maps and /proc/self/smaps parse and list the same regions")
    func realProcSelf() throws {
        // Other tests run concurrently and may map or unmap memory between the reads: retry until
        // maps read before and after smaps agree, then demand the same set of start addresses.
        // Under a sanitizer this process's map changes with every large read (ASan maps each large
        // allocation on its own and keeps it in quarantine once freed; TSan's runtime also maps as
        // it goes), so the two maps reads never agree: read an idle child's files instead.
        let child: pid_t? = Build.sanitizer ? try spawnClean(["/bin/sleep", "60"]) : nil
        defer {
            if let child {
                kill(child, SIGKILL)
                var status: Int32 = 0
                waitpid(child, &status, 0)
            }
        }
        let proc = child.map { "/proc/\($0)" } ?? "/proc/self"
        // The child's map is only sleep's once its execve is done (under TSan, well after the spawn).
        for _ in 0..<500 where child != nil && !(ProcFile.read(proc + "/maps") ?? "").contains("sleep") {
            usleep(10_000)
        }
        var lastDifference = ""
        for attempt in 0..<20 {
            if attempt > 0 { usleep(20_000) }
            let before = try #require(ProcFile.read(proc + "/maps"))
            let smapsText = try #require(ProcFile.read(proc + "/smaps"))
            let after = try #require(ProcFile.read(proc + "/maps"))
            let maps = try MapsEntry.parseMaps(before)
            let smaps = try SmapsUsage.parseSmaps(smapsText)
            #expect(!maps.isEmpty)
            #expect(!smaps.isEmpty)
            #expect(maps.contains { $0.path == "[stack]" })
            #expect(maps.contains { $0.isFile && $0.perms.hasPrefix("r-x") })
            #expect(smaps.values.contains { $0.rss > 0 })
            #expect(smaps.values.allSatisfy { $0.anonymous <= $0.rss })
            guard before == after else { continue }
            let mapStarts = Set(maps.map(\.start))
            let smapsStarts = Set(smaps.keys)
            if mapStarts == smapsStarts {
                #expect(maps.count == smaps.count)
                #expect(ProcFile.maps(child ?? getpid()) != nil)
                return
            }
            lastDifference = "only in maps: \(mapStarts.subtracting(smapsStarts).map { String($0, radix: 16) }), "
                + "only in smaps: \(smapsStarts.subtracting(mapStarts).map { String($0, radix: 16) })"
        }
        Issue.record("maps and smaps never listed the same regions: \(lastDifference)")
    }
}
