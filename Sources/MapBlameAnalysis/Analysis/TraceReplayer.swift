import MapBlameModel

/// Rebuilds a `Recording` from a trace file: every process's address space is replayed from its
/// exec seed and events in file order, and captured at the process's final snapshot. Analysis
/// never reads /proc: everything comes from the trace.
public struct TraceReplayer {
    private var recording = Recording(command: [])
    private var replay = SpaceReplay()
    private var indexOfPid: [Int32: Int] = [:]
    private var threads: [Int32: [ThreadStack]] = [:]
    private var modulePaths: [Int: String] = [:]
    private var nextEventID = 0
    /// Peaks and a series of moments per process, found on the same replay (its observer).
    private let history = SpaceHistory()

    /// Events no address space refers to any more are dropped as the trace is read, unless
    /// `keepAllEvents` (`--all-events`): memory then stays proportional to the mappings alive,
    /// not to the number of events.
    private var nextCollection = TraceReplayer.minimumCollection
    package static let minimumCollection = 4096

    public static func replay(path: String, keepAllEvents: Bool = false) throws(TraceReadError) -> Recording {
        var replayer = TraceReplayer()
        let history = replayer.history
        replayer.replay.observer = { history.observe($0, $1) }
        replayer.replay.willApply = { history.willApply(space: $0, $1, $2) }
        replayer.recording.keepsAllEvents = keepAllEvents
        let summary = try TraceReader.read(path: path) { replayer.apply($0) }
        replayer.recording.truncatedAt = summary.truncatedAt
        replayer.recording.complete = summary.complete
        replayer.modelViewsForMissingSnapshots()
        let histories = history.histories(spaces: replayer.replay.spaces)
        for (pid, i) in replayer.indexOfPid { replayer.recording.processes[i].history = histories[pid] }
        return replayer.recording
    }

    /// A process the trace left without a final snapshot (cut short) is reported from its model.
    private mutating func modelViewsForMissingSnapshots() {
        for (pid, i) in indexOfPid where recording.processes[i].snapshot == nil {
            guard let model = replay.model(of: pid) else { continue }
            recording.processes[i].snapshot = FinalSnapshot(maps: model.mapsView(), usage: [:], model: model,
                                                            threadStacks: threads[pid] ?? [], fromModel: true)
        }
    }

    /// A new address space seeded from /proc/PID/maps (exec, attach), made by a pseudo-event whose
    /// id it returns.
    @discardableResult
    private mutating func seed(pid: Int32, tid: Int32, space: Int, executable: String, maps: String, time: UInt64? = nil) -> Int {
        let id = nextEventID
        nextEventID += 1
        recording.events[id] = MappingEvent(id: id, pid: pid, tid: tid, syscall: .execve, args: [], result: 0,
                                            stack: 0, filePath: executable, time: time)
        replay.seed(pid: pid, space: space, maps: maps, event: id, time: time)
        threads[pid] = []
        if let i = indexOfPid[pid] { recording.processes[i].executable = executable }
        return id
    }

    /// Whether `e` can be the creator of bytes in a model (`AddressSpace.apply`).
    package static func mayCreate(_ e: MappingEvent) -> Bool {
        switch e.syscall {
        case .mmap, .mremap, .brk, .shmat: return !e.failed
        case .munmap, .mprotect, .pkey_mprotect, .shmdt, .execve: return false
        }
    }

    /// Drops the events no model refers to: every address space still replayed, and the models
    /// captured at snapshots. An event no model refers to never will again (models only take new
    /// events or copy existing references).
    private mutating func collect() {
        guard !recording.keepsAllEvents else { return }
        var live = Set<Int>()
        for space in replay.spaces.values {
            for s in space.map.segments { live.insert(s.value.creator) }
        }
        for p in recording.processes {
            for s in p.snapshot?.model.map.segments ?? [] { live.insert(s.value.creator) }
        }
        for model in history.keptModels {  // the peaks name what held their memory
            for s in model.map.segments { live.insert(s.value.creator) }
        }
        recording.events = recording.events.filter { live.contains($0.key) }
        nextCollection = max(TraceReplayer.minimumCollection, 2 * recording.events.count)
    }

    package mutating func apply(_ record: TraceRecord) {
        switch record {
        case let .header(_, command, _, _):
            recording.command = command
        case let .module(id, path, size, mtime, inode, buildID):
            modulePaths[id] = path
            recording.modules.append(ModuleInfo(path: path, size: size, mtime: mtime, inode: inode, buildID: buildID))
        case let .stack(id, frames):
            let resolved = frames.map {
                Frame(ip: $0.ip, module: $0.module.flatMap { modulePaths[$0] }, fileOffset: $0.fileOffset, python: $0.python)
            }
            if id == 0 { recording.stacks[0] = resolved } else { recording.stacks.append(resolved) }
        case let .process(pid, parentPid, space, parentSpace, shares, executable, time):
            indexOfPid[pid] = recording.processes.count
            threads[pid] = []
            var process = ProcessRecord(pid: pid, parentPid: parentPid, executable: executable)
            process.startTime = time
            recording.processes.append(process)
            replay.newProcess(pid: pid, space: space, parentSpace: parentSpace, shares: shares, time: time)
        case let .exec(pid, tid, space, executable, maps, time):
            seed(pid: pid, tid: tid, space: space, executable: executable, maps: maps, time: time)
        case let .attach(pid, tid, space, executable, maps, seeds):
            recording.seeds[seed(pid: pid, tid: tid, space: space, executable: executable, maps: maps)] = seeds
        case let .detach(pid):
            if let i = indexOfPid[pid] { recording.processes[i].detached = true }
        case .event(let e):
            nextEventID += 1
            recording.eventCounts[e.pid, default: 0] += 1
            replay.apply(e)
            // munmap, mprotect and failed calls create nothing: only --all-events lists them.
            if recording.keepsAllEvents || TraceReplayer.mayCreate(e) {
                recording.events[e.id] = e
                if recording.events.count >= nextCollection { collect() }
            }
        case let .thread(pid, tid, low, top):
            let holder = replay.model(of: pid)?.map.segment(containing: top &- 1)
            threads[pid, default: []].append(ThreadStack(tid: tid, lowest: low, top: top, creator: holder?.value.creator))
        case let .snapshot(pid, maps, smaps):
            guard let i = indexOfPid[pid], let model = replay.model(of: pid) else { return }
            recording.processes[i].snapshot = FinalSnapshot(
                maps: (try? MapsEntry.parseMaps(maps)) ?? [], usage: (try? SmapsUsage.parseSmaps(smaps)) ?? [:],
                model: model, threadStacks: threads[pid] ?? [])
        case let .evidence(pid, evidence):
            if let i = indexOfPid[pid] { recording.processes[i].snapshot?.evidence = evidence }
        case let .residency(pid, regions):
            guard let i = indexOfPid[pid] else { return }
            for region in regions { recording.processes[i].snapshot?.residency[region.start] = region }
        case let .perfMap(pid, symbols):
            if let i = indexOfPid[pid] { recording.processes[i].jitSymbols = symbols }
        case let .exit(pid, status, time):
            if let i = indexOfPid[pid] {
                recording.processes[i].exit = status
                recording.processes[i].exitTime = time
            }
        case .end:
            break
        }
    }
}
