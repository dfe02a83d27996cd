import MapBlameModel

/// The join: each process's final /proc/PID/maps against the model at the same moment. Every line
/// of the final map becomes a `RegionReport`; its bytes are split into origins, one per creating
/// event (the kernel merges adjacent compatible VMAs, so one line can hold several calls' bytes).
public struct ReportBuilder {
    let recording: Recording
    private let symbolizer: Symbolizer
    private let verify: Bool
    private let allEvents: Bool
    let allocators: AllocatorFrames
    /// Symbolized frames, for innermost frames (index 0) and return addresses (index 1), by
    /// frame without its address (`symbolizeModules`).
    private var frameCache: [[Frame: [SymbolizedFrame]]] = [[:], [:]]
    private var stackCache: [Int: [SymbolizedFrame]] = [:]
    /// The perf map of the process being reported, and the stacks named with it (by stack id).
    private var jitSymbols: [JitSymbol] = []
    private var jitStackCache: [Int: [SymbolizedFrame]] = [:]
    /// What the classifier reads from each stack shape, kept across processes (`Classifier.memo`).
    let stackFacts = StackFactsMemo()
    /// Each recorded stack's shape id (`factsKey`), and the ids by shape.
    private var shapeOfStack: [Int: Int] = [:]
    private var shapeIDs: [[Frame]: Int] = [:]
    /// Modules whose file on disk is no longer the recorded one.
    private lazy var changedModules: Set<String> = Set(recording.modules.filter { m in
        guard !m.buildID.isEmpty, let readable = symbolizer.location(of: m.path) else { return false }
        return BuildID.read(path: readable) != m.buildID
    }.map(\.path))

    /// `allEvents`: list every event of each process in the report, not only those an origin names.
    /// `allocators`: the table and the user's --allocator-frames patterns.
    public init(recording: Recording, symbolizer: Symbolizer, verify: Bool = false, allEvents: Bool = false,
                allocators: AllocatorFrames? = nil) {
        self.recording = recording
        self.symbolizer = symbolizer
        self.verify = verify
        self.allEvents = allEvents
        self.allocators = allocators ?? (try! AllocatorFrames())
    }

    public mutating func build() -> Report {
        // Each process's event ids, gathered in one pass over the events (not one per process);
        // only --all-events lists events no region names.
        var eventsByPid: [Int32: [Int]] = [:]
        if allEvents {
            for e in recording.events.values { eventsByPid[e.pid, default: []].append(e.id) }
        }
        var processes: [ProcessReport] = []
        for record in recording.processes {
            processes.append(process(record, events: eventsByPid[record.pid] ?? []))
        }
        var report = Report(command: recording.command, processes: processes, truncatedAt: recording.truncatedAt,
                            complete: recording.complete)
        report.attached = recording.attached
        for m in recording.modules where !m.buildID.isEmpty && report.buildIDs[m.path] == nil { report.buildIDs[m.path] = m.buildID }
        return report
    }

    private mutating func process(_ record: ProcessRecord, events: [Int]) -> ProcessReport {
        var report = ProcessReport(pid: record.pid, parentPid: record.parentPid, executable: record.executable,
                                   exit: record.exit, hasSnapshot: !(record.snapshot?.fromModel ?? true), regions: [], events: [],
                                   verification: nil)
        report.detached = record.detached
        report.eventsRecorded = recording.eventCounts[record.pid] ?? 0
        jitSymbols = record.jitSymbols
        jitStackCache = [:]
        addHistory(record, to: &report)
        guard let snapshot = record.snapshot else { return report }
        let classifier = Classifier(threadStacks: snapshot.threadStacks, model: snapshot.model, allocators: allocators,
                                    memo: stackFacts)
        let verdicts = SnapshotVerdicts(snapshot: snapshot, pid: record.pid, executable: record.executable)
        var named = Set<Int>()
        for entry in snapshot.maps {
            var origins: [Origin] = []
            var evidence: [Int: SeedRegion] = [:]  // by origin index: pages older than an attach
            var cursor = entry.start
            for piece in merged(snapshot.model.map.segments(in: entry.start..<entry.end)) {
                if piece.range.lowerBound > cursor {
                    origins.append(untraced(cursor..<piece.range.lowerBound, entry: entry))
                }
                cursor = piece.range.upperBound
                if let seeds = recording.seeds[piece.value.creator] {
                    for (origin, seed) in ReportBuilder.seeded(piece.range, seeds: seeds, entry: entry) {
                        if let seed { evidence[origins.count] = seed }
                        origins.append(origin)
                    }
                    continue
                }
                let event = recording.event(piece.value.creator)
                let stack = symbolize(stack: event.stack)
                var c = classifier.classify(event: event, created: piece.value, stack: stack, range: piece.range, entry: entry,
                                            stackID: factsKey(stack: event.stack))
                if stack.isEmpty && c.category == .mmap, let known = verdicts.stackless(entry: entry, range: piece.range) { c = known }
                origins.append(Origin(range: piece.range, event: event.id, syscall: event.syscall,
                                      category: c.category, label: c.label, site: c.site, allocator: c.allocator,
                                      attribution: c.attribution))
                named.insert(event.id)
            }
            if cursor < entry.end { origins.append(untraced(cursor..<entry.end, entry: entry)) }
            let main = origins.indices.max { origins[$0].range.count < origins[$1].range.count }!
            report.regions.append(RegionReport(entry: entry, usage: snapshot.usage[entry.start] ?? SmapsUsage(),
                                               category: origins[main].category, label: origins[main].label, origins: origins,
                                               evidence: evidence[main]?.evidence, confidence: evidence[main]?.confidence))
            report.regions[report.regions.count - 1].resident = snapshot.residency[entry.start].flatMap {
                OriginResidency.exact($0, entry: entry, usage: snapshot.usage[entry.start] ?? SmapsUsage(), origins: origins)
            }
        }
        if verify && !snapshot.fromModel {
            report.verification = Verifier.verify(snapshot, regions: report.regions)
            if let evidence = verdicts.regions {
                report.verification?.labelDisagreements = LabelCheck.disagreements(recorded: report.regions, evidence: evidence)
            }
        }
        if allEvents {
            named.formUnion(events)
        }
        report.events = named.sorted().map { id in
            let e = recording.event(id)
            return EventReport(event: e, stack: symbolize(stack: e.stack))
        }
        return report
    }

    /// Adjacent pieces with the same creator become one origin.
    private func merged(_ pieces: [IntervalMap<Mapping>.Segment]) -> [IntervalMap<Mapping>.Segment] {
        var result: [IntervalMap<Mapping>.Segment] = []
        for p in pieces {
            if let last = result.last, last.range.upperBound == p.range.lowerBound, last.value.creator == p.value.creator {
                result[result.count - 1].range = last.range.lowerBound..<p.range.upperBound
            } else {
                result.append(p)
            }
        }
        return result
    }

    /// Pages that were already mapped when `mapblame attach` seized the process: named by the seed
    /// regions they fall in (explain's verdicts then), `unknown` where no seed covers them.
    package static func seeded(_ range: Range<UInt64>, seeds: [SeedRegion], entry: MapsEntry) -> [(Origin, SeedRegion?)] {
        var result: [(Origin, SeedRegion?)] = []
        var cursor = range.lowerBound
        func gap(to end: UInt64) {
            guard end > cursor else { return }
            result.append((Origin(range: cursor..<end, event: nil, syscall: nil, category: .unknown,
                                  label: "mapped before attach, not explained", site: nil), nil))
        }
        var i = seeds.firstIndex { $0.range.upperBound > range.lowerBound } ?? seeds.count
        while i < seeds.count, seeds[i].range.lowerBound < range.upperBound {
            let seed = seeds[i]
            let part = seed.range.clamped(to: range)
            gap(to: part.lowerBound)
            result.append((Origin(range: part, event: nil, syscall: nil, category: seed.category,
                                  label: seed.label, site: nil), seed))
            cursor = part.upperBound
            i += 1
        }
        gap(to: range.upperBound)
        return result
    }

    private func untraced(_ range: Range<UInt64>, entry: MapsEntry) -> Origin {
        let c = Classifier.classifyUntraced(entry: entry)
        return Origin(range: range, event: nil, syscall: c.category == .unknown ? nil : .execve,
                      category: c.category, label: c.label, site: nil, attribution: c.attribution)
    }

    /// The key of a recorded stack's facts in `stackFacts`: its shape, the frames without their
    /// addresses (what its symbolized frames are made of, but for their `ip`); none in a process
    /// with a perf map, whose names for the stack are its own.
    mutating func factsKey(stack index: Int) -> Int? {
        guard jitSymbols.isEmpty else { return nil }
        if let known = shapeOfStack[index] { return known }
        let recorded = recording.stacks.indices.contains(index) ? recording.stacks[index] : []
        let shape = recorded.map { Frame(ip: 0, module: $0.module, fileOffset: $0.fileOffset, python: $0.python) }
        let id = shapeIDs[shape] ?? shapeIDs.count
        shapeIDs[shape] = id
        shapeOfStack[index] = id
        return id
    }

    /// A recorded stack with names: every frame expanded into its inlined calls (innermost
    /// first), each unique frame symbolized once.
    mutating func symbolize(stack index: Int) -> [SymbolizedFrame] {
        guard !jitSymbols.isEmpty else { return symbolizeModules(stack: index) }
        if let cached = jitStackCache[index] { return cached }
        let named = JitNaming.name(symbolizeModules(stack: index), with: jitSymbols)
        jitStackCache[index] = named
        return named
    }

    mutating func symbolizeModules(stack index: Int) -> [SymbolizedFrame] {
        if let cached = stackCache[index] { return cached }
        var frames: [SymbolizedFrame] = []
        let recorded = recording.stacks.indices.contains(index) ? recording.stacks[index] : []
        for (position, frame) in recorded.enumerated() {
            let kind = position > 0 ? 1 : 0
            // Cached without the address: each process of a loop has its own addresses for the
            // same code (ASLR), and only `ip` comes from it (a Python frame's is 0).
            let key = Frame(ip: 0, module: frame.module, fileOffset: frame.fileOffset, python: frame.python)
            if let cached = frameCache[kind][key] {
                frames += frame.python != nil || cached.first?.ip == frame.ip ? cached : cached.map { cachedFrame in
                    var f = cachedFrame
                    f.ip = frame.ip
                    return f
                }
                continue
            }
            var expanded = [SymbolizedFrame(ip: frame.ip, module: frame.module, moduleOffset: frame.fileOffset,
                                            function: nil, file: nil, line: nil)]
            if let python = frame.python {
                expanded = [SymbolizedFrame(ip: 0, moduleOffset: 0, function: python.function, file: python.file,
                                            line: python.line > 0 ? python.line : nil)]
                expanded[0].kind = .python
            } else if let module = frame.module, changedModules.contains(module) {
                expanded[0].moduleChanged = true
            } else if let module = frame.module, module.hasPrefix("/"), symbolizer.location(of: module) != nil {
                // (No location: two files were mapped at that path; names the prefetch may have
                // cached from one of them are not given to the other's frames.)
                expanded = symbolizer.symbolizeInlined(path: module, fileOffset: frame.fileOffset,
                                                       isReturnAddress: position > 0).map { s in
                    var f = SymbolizedFrame(ip: frame.ip, module: module, moduleOffset: s.elfAddress,
                                            function: s.function, file: s.file, line: s.line)
                    f.inlined = s.inlined
                    return f
                }
            }
            frameCache[kind][key] = expanded
            frames += expanded
        }
        stackCache[index] = frames
        return frames
    }
}
