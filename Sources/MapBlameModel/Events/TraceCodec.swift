/// Record payloads: one type byte, then fields as varints and strings (docs/trace-format.md).
package enum TraceCodec {
    package static func encode(_ record: TraceRecord, into w: inout ByteWriter) {
        switch record {
        case let .header(version, command, maxFrames, startTime):
            w.byte(1)
            w.varint(UInt64(version))
            w.varint(UInt64(command.count))
            command.forEach { w.string($0) }
            w.varint(UInt64(maxFrames))
            w.varint(startTime)
        case let .module(id, path, size, mtime, inode, buildID):
            w.byte(2)
            w.varint(UInt64(id)); w.string(path); w.varint(size); w.varint(mtime); w.varint(inode); w.string(buildID)
        case let .stack(id, frames) where frames.contains { $0.python != nil }:
            // Type 16: each frame starts with a byte, 0 native (as in type 3), 1 Python.
            w.byte(16)
            w.varint(UInt64(id))
            w.varint(UInt64(frames.count))
            for f in frames {
                if let p = f.python {
                    w.byte(1); w.string(p.function); w.string(p.file); w.varint(UInt64(max(0, p.line)))
                } else {
                    w.byte(0); w.varint(f.ip); w.varint(f.module.map { UInt64($0) + 1 } ?? 0); w.varint(f.fileOffset)
                }
            }
        case let .stack(id, frames):
            w.byte(3)
            w.varint(UInt64(id))
            w.varint(UInt64(frames.count))
            for f in frames {
                w.varint(f.ip)
                w.varint(f.module.map { UInt64($0) + 1 } ?? 0)
                w.varint(f.fileOffset)
            }
        case let .process(pid, parentPid, space, parentSpace, shares, executable, time):
            w.byte(4)
            w.varint(UInt64(pid)); w.varint(parentPid.map { UInt64($0) } ?? 0)
            w.varint(UInt64(space)); w.varint(parentSpace.map { UInt64($0) + 1 } ?? 0)
            w.byte(shares ? 1 : 0); w.string(executable)
            if let time { w.varint(time) }
        case let .exec(pid, tid, space, executable, maps, time):
            w.byte(5)
            w.varint(UInt64(pid)); w.varint(UInt64(tid)); w.varint(UInt64(space)); w.string(executable); w.string(maps)
            if let time { w.varint(time) }
        case let .event(e):
            w.byte(6)
            w.varint(UInt64(e.pid)); w.varint(UInt64(e.tid))
            w.byte(e.syscall.traceIndex)
            w.varint(UInt64(e.registers.count))
            e.registers.forEach { w.varint($0) }
            w.signed(e.result)
            w.varint(UInt64(e.stack))
            let flags: UInt8 = (e.filePath != nil ? 1 : 0) | (e.fileBelow != nil ? 2 : 0) | (e.length != nil ? 4 : 0)
                | (e.time != nil ? 8 : 0)
            w.byte(flags)
            if let p = e.filePath { w.string(p) }
            if let b = e.fileBelow { w.string(b) }
            if let l = e.length { w.varint(l) }
            if let t = e.time { w.varint(t) }
        case let .thread(pid, tid, low, top):
            w.byte(7)
            w.varint(UInt64(pid)); w.varint(UInt64(tid)); w.varint(low.map { $0 &+ 1 } ?? 0); w.varint(top)
        case let .snapshot(pid, maps, smaps):
            w.byte(8)
            w.varint(UInt64(pid)); w.string(maps); w.string(smaps)
        case let .exit(pid, status, time):
            w.byte(9)
            w.varint(UInt64(pid))
            switch status {
            case .code(let c): w.byte(0); w.varint(UInt64(UInt32(bitPattern: c)))
            case .signal(let s): w.byte(1); w.varint(UInt64(UInt32(bitPattern: s)))
            }
            if let time { w.varint(time) }
        case let .end(events):
            w.byte(10)
            w.varint(UInt64(events))
        case let .attach(pid, tid, space, executable, maps, seeds):
            w.byte(11)
            w.varint(UInt64(pid)); w.varint(UInt64(tid)); w.varint(UInt64(space)); w.string(executable); w.string(maps)
            w.varint(UInt64(seeds.count))
            for s in seeds {
                w.varint(s.range.lowerBound); w.varint(s.range.upperBound)
                w.string(s.category.rawValue); w.string(s.label); w.string(s.evidence); w.string(s.confidence.rawValue)
            }
        case let .detach(pid):
            w.byte(12)
            w.varint(UInt64(pid))
        case let .perfMap(pid, symbols):
            w.byte(15)
            w.varint(UInt64(pid))
            w.varint(UInt64(symbols.count))
            for s in symbols { w.varint(s.start); w.varint(s.size); w.string(s.name) }
        case let .evidence(pid, e):
            w.byte(13)
            w.varint(UInt64(pid))
            w.varint(UInt64(e.threads.count))
            for t in e.threads { w.varint(UInt64(t.tid)); w.varint(t.rsp); w.varint(t.rip) }
            w.varint(UInt64(e.regions.count))
            for r in e.regions {
                w.varint(r.start)
                w.varint(UInt64(r.head.count)); r.head.forEach { w.varint($0) }
                w.varint(UInt64(r.chunkSizes.count)); r.chunkSizes.forEach { w.varint($0) }
            }
        case let .residency(pid, regions):
            w.byte(14)
            encodeResidency(pid: pid, regions, into: &w)
        }
    }

    /// Decodes one payload; `nextEventID` numbers events (ids are implicit, in file order).
    package static func decode(_ r: inout ByteReader, nextEventID: Int) -> TraceRecord? {
        switch r.byte() {
        case 1:
            guard let version = r.int(), let n = r.int(), n < 1 << 20 else { return nil }
            var command: [String] = []
            for _ in 0..<n { guard let s = r.string() else { return nil }; command.append(s) }
            guard let frames = r.int(), let start = r.varint() else { return nil }
            return .header(version: version, command: command, maxFrames: frames, startTime: start)
        case 2:
            guard let id = r.int(), let path = r.string(), let size = r.varint(), let mtime = r.varint(),
                  let inode = r.varint(), let buildID = r.string() else { return nil }
            return .module(id: id, path: path, size: size, mtime: mtime, inode: inode, buildID: buildID)
        case 3:
            guard let id = r.int(), let n = r.int(), n <= 4096 else { return nil }
            var frames: [StackFrame] = []
            for _ in 0..<n {
                guard let ip = r.varint(), let m = r.int(), let off = r.varint() else { return nil }
                frames.append(StackFrame(ip: ip, module: m == 0 ? nil : m - 1, fileOffset: off))
            }
            return .stack(id: id, frames: frames)
        case 4:
            guard let pid = r.pid(), let parent = r.pid(), let space = r.int(), let parentSpace = r.int(),
                  let shares = r.byte(), let exe = r.string() else { return nil }
            guard let time = trailingTime(&r) else { return nil }
            return .process(pid: pid, parentPid: parent == 0 ? nil : parent, space: space,
                            parentSpace: parentSpace == 0 ? nil : parentSpace - 1, shares: shares == 1, executable: exe,
                            time: time)
        case 5:
            guard let pid = r.pid(), let tid = r.pid(), let space = r.int(), let exe = r.string(), let maps = r.string()
            else { return nil }
            guard let time = trailingTime(&r) else { return nil }
            return .exec(pid: pid, tid: tid, space: space, executable: exe, maps: maps, time: time)
        case 6:
            return decodeEvent(&r, id: nextEventID).map { .event($0) }
        case 7:
            guard let pid = r.pid(), let tid = r.pid(), let low = r.varint(), let top = r.varint() else { return nil }
            return .thread(pid: pid, tid: tid, stackLow: low == 0 ? nil : low &- 1, stackTop: top)
        case 8:
            guard let pid = r.pid(), let maps = r.string(), let smaps = r.string() else { return nil }
            return .snapshot(pid: pid, maps: maps, smaps: smaps)
        case 9:
            guard let pid = r.pid(), let kind = r.byte(), let v = r.varint(), v <= UInt64(UInt32.max) else { return nil }
            let value = Int32(bitPattern: UInt32(v))
            guard let time = trailingTime(&r) else { return nil }
            return .exit(pid: pid, status: kind == 0 ? .code(value) : .signal(value), time: time)
        case 10:
            return r.int().map { .end(events: $0) }
        case 11:
            guard let pid = r.pid(), let tid = r.pid(), let space = r.int(), let exe = r.string(), let maps = r.string(),
                  let n = r.int(), n < 1 << 24 else { return nil }
            var seeds: [SeedRegion] = []
            for _ in 0..<n {
                guard let low = r.varint(), let high = r.varint(), low < high, let category = r.string(),
                      let label = r.string(), let evidence = r.string(), let confidenceWord = r.string(),
                      let confidence = Confidence(rawValue: confidenceWord) else { return nil }
                seeds.append(SeedRegion(range: low..<high, category: Category(rawValue: category) ?? .unknown, label: label,
                                        evidence: evidence, confidence: confidence))
            }
            return .attach(pid: pid, tid: tid, space: space, executable: exe, maps: maps, seeds: seeds)
        case 12:
            return r.pid().map { .detach(pid: $0) }
        case 13:
            return decodeEvidence(&r)
        case 14:
            return decodeResidency(&r)
        case 16:
            return decodeMixedStack(&r)
        case 15:
            guard let pid = r.pid(), let n = r.int(), n < 1 << 26 else { return nil }
            var symbols: [JitSymbol] = []
            for _ in 0..<n {
                guard let start = r.varint(), let size = r.varint(), let name = r.string() else { return nil }
                symbols.append(JitSymbol(start: start, size: size, name: name))
            }
            return .perfMap(pid: pid, symbols: symbols)
        default:
            return nil
        }
    }

    private static func decodeEvidence(_ r: inout ByteReader) -> TraceRecord? {
        guard let pid = r.pid(), let n = r.int(), n < 1 << 20 else { return nil }
        var threads: [SnapshotEvidence.Thread] = []
        for _ in 0..<n {
            guard let tid = r.pid(), let rsp = r.varint(), let rip = r.varint() else { return nil }
            threads.append(SnapshotEvidence.Thread(tid: tid, rsp: rsp, rip: rip))
        }
        guard let m = r.int(), m < 1 << 24 else { return nil }
        var regions: [SnapshotEvidence.Region] = []
        for _ in 0..<m {
            guard let start = r.varint(), let words = list(&r, max: 5), let chunks = list(&r, max: 256) else { return nil }
            regions.append(SnapshotEvidence.Region(start: start, head: words, chunkSizes: chunks))
        }
        return .evidence(pid: pid, SnapshotEvidence(threads: threads, regions: regions))
    }

    /// A stack with Python frames (type 16).
    private static func decodeMixedStack(_ r: inout ByteReader) -> TraceRecord? {
        guard let id = r.int(), let n = r.int(), n <= 4096 else { return nil }
        var frames: [StackFrame] = []
        for _ in 0..<n {
            switch r.byte() {
            case 0:
                guard let ip = r.varint(), let m = r.int(), let off = r.varint() else { return nil }
                frames.append(StackFrame(ip: ip, module: m == 0 ? nil : m - 1, fileOffset: off))
            case 1:
                guard let function = r.string(), let file = r.string(), let line = r.int() else { return nil }
                frames.append(StackFrame(ip: 0, fileOffset: 0, python: PythonFrame(function: function, file: file, line: line)))
            default:
                return nil
            }
        }
        return .stack(id: id, frames: frames)
    }

    /// The optional time at the end of a process, exec or exit record: absent in traces written
    /// before timestamps (the record ends there), else one varint. nil: malformed.
    private static func trailingTime(_ r: inout ByteReader) -> UInt64?? {
        if r.atEnd { return .some(nil) }
        guard let t = r.varint() else { return nil }
        return .some(t)
    }

    /// A count (at most `max`) and that many varints.
    private static func list(_ r: inout ByteReader, max: Int) -> [UInt64]? {
        guard let n = r.int(), n <= max else { return nil }
        var values: [UInt64] = []
        for _ in 0..<n { guard let v = r.varint() else { return nil }; values.append(v) }
        return values
    }

    private static func decodeEvent(_ r: inout ByteReader, id: Int) -> MappingEvent? {
        guard let pid = r.pid(), let tid = r.pid(), let sc = r.byte(), Int(sc) < MappingSyscall.ordered.count,
              let n = r.int(), n == (MappingSyscall.ordered[Int(sc)] == .execve ? 0 : 6) else { return nil }
        var args: [UInt64] = []
        args.reserveCapacity(n)
        for _ in 0..<n { guard let a = r.varint() else { return nil }; args.append(a) }
        guard let result = r.signed(), let stack = r.int(), let flags = r.byte() else { return nil }
        var e = MappingEvent(id: id, pid: pid, tid: tid, syscall: MappingSyscall.ordered[Int(sc)], args: args,
                             result: result, stack: stack)
        if flags & 1 != 0 { guard let p = r.string() else { return nil }; e.filePath = p }
        if flags & 2 != 0 { guard let b = r.string() else { return nil }; e.fileBelow = b }
        if flags & 4 != 0 { guard let l = r.varint() else { return nil }; e.length = l }
        if flags & 8 != 0 { guard let t = r.varint() else { return nil }; e.time = t }
        return e
    }
}
