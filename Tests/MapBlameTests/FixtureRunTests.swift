import Foundation
import Testing

/// Real programs under real ptrace: each fixture scenario creates mappings whose origin is known,
/// and the report must say exactly what made each of them.
@Suite("mapblame run on fixtures")
struct FixtureRunTests {
    let mainC = "main.c"

    func expectSite(_ run: TracedRun, _ origin: [String: Any]?, function: String, marker: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
        let site = run.site(of: origin)
        #expect(site.function == function, sourceLocation: sourceLocation)
        #expect(site.file.map { $0.hasSuffix("/" + mainC) || $0 == mainC } == true, "file \(site.file ?? "nil")", sourceLocation: sourceLocation)
        #expect(site.line == SiteMarkers.lines[marker], "marker \(marker)", sourceLocation: sourceLocation)
    }

    @Test func executableBssIsAttributedToExec() throws {
        let run = try TracedRun.fixture("bss")
        #expect(run.finished.status == 0)
        let origin = try #require(run.origin("bss"))
        #expect(origin["category"] as? String == "bss")
        #expect(origin["syscall"] as? String == "execve")
        let exe = try #require(run.root["executable"] as? String)
        #expect(origin["label"] as? String == "bss of \(exe)")
        #expect(exe.hasSuffix("/mbfixture"))
    }

    @Test func libraryBssIsAttributedToTheLibrary() throws {
        let run = try TracedRun.fixture("library")
        let origin = try #require(run.origin("libbss"))
        #expect(origin["category"] as? String == "bss")
        #expect(origin["syscall"] as? String == "mmap")
        let libpath = try #require(run.finished.values["libpath"])
        let lib = URL(fileURLWithPath: libpath).resolvingSymlinksInPath().path
        #expect(origin["label"] as? String == "bss of \(lib)")
        // ld.so made it: the creating call's first frame is in the dynamic loader.
        let id = try #require(origin["event"] as? Int)
        let event = try #require(ReportJSON.event(run.root, id: id))
        let first = (event["stack"] as? [[String: Any]])?.first
        #expect((first?["module"] as? String)?.contains("ld-linux") == true)
    }

    @Test func directMmapNamesItsCallSite() throws {
        let run = try TracedRun.fixture("mmap")
        let origin = try #require(run.origin("mmap"))
        #expect(origin["category"] as? String == "mmap")
        expectSite(run, origin, function: "scenario_mmap", marker: "mmap")
        #expect(origin["label"] as? String == "mmap(65536) from scenario_mmap (main.c:\(SiteMarkers.lines["mmap"]!))")
    }

    @Test func largeMallocIsMalloc() throws {
        let run = try TracedRun.fixture("malloc")
        let origin = try #require(run.origin("malloc"))
        #expect(origin["category"] as? String == "malloc")
        expectSite(run, origin, function: "scenario_malloc", marker: "malloc")
        #expect((origin["label"] as? String)?.hasPrefix("malloc of 1.0 MiB served by mmap from scenario_malloc (main.c:") == true)
    }

    @Test func threadStackGuardAndArena() throws {
        let run = try TracedRun.fixture("thread")
        let tid = try #require(run.finished.values["thread_tid"])
        let stack = try #require(ReportJSON.region(run.root, containing: run.address("thread_stack")))
        #expect(stack["category"] as? String == "thread-stack")
        #expect(stack["label"] as? String == "stack of thread \(tid) (guard page below)")
        #expect(stack["perms"] as? String == "rw-p")
        let guardPage = try #require(ReportJSON.region(run.root, containing: hex(stack["start"]) - 1))
        #expect(guardPage["category"] as? String == "guard")
        #expect(guardPage["perms"] as? String == "---p")
        #expect(guardPage["label"] as? String == "guard page of the stack of thread \(tid)")
        let stackOrigin = try #require(run.origin("thread_stack"))
        expectSite(run, stackOrigin, function: "scenario_thread", marker: "thread")

        let arena = try #require(run.origin("arena"))
        #expect(arena["category"] as? String == "malloc-arena")
        #expect((arena["label"] as? String)?.contains("thread \(tid)") == true)
        expectSite(run, arena, function: "thread_main", marker: "arena")
    }

    /// glibc trims an arena's 128 MiB reservation to its 64 MiB-aligned half; 80 thread stacks then
    /// fill the trimmed-off parts. Each stack is its thread's, the arena stays an arena, and
    /// --verify finds the words agreeing with explain's evidence.
    @Test func threadStacksInATrimmedArenaReservationLeaveTheArenaAlone() throws {
        let run = try TracedRun([Build.fixture, "arena-stacks"], options: ["--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let arena = try #require(run.origin("arena")), reserve = try #require(run.origin("arena_reserve"))
        #expect(arena["category"] as? String == "malloc-arena", "\(arena)")
        #expect(reserve["category"] as? String == "malloc-arena", "\(reserve)")
        #expect(arena["allocator"] as? String == "glibc malloc")
        let site = run.site(of: arena)
        #expect(site.function == "arena_thread")
        #expect(site.file?.hasSuffix("arenas.c") == true && site.line == SiteMarkers.lines["arena_stacks"], "\(site)")
        let threads = try #require(run.finished.values["threads"].flatMap { Int($0) })
        for i in 0..<threads {
            let tid = try #require(run.finished.values["tid_\(i)"])
            let stack = try #require(run.origin("stack_\(i)"))
            #expect(stack["category"] as? String == "thread-stack", "thread \(i): \(stack)")
            #expect(stack["label"] as? String == "stack of thread \(tid) (guard page below)", "thread \(i)")
        }
        let verify = try #require(run.root["verify"] as? [String: Any])
        #expect((verify["label_disagreements"] as? [Any])?.isEmpty == true, "\(verify)")
    }

    /// Without backtraces (--frames 0) a call cannot tell a library's .bss or a malloc arena from a
    /// direct mmap: the evidence recorded at exit does, and --verify agrees.
    @Test func withoutBacktracesArenasAndBssComeFromEvidence() throws {
        let run = try TracedRun([Build.fixture, "arena-stacks", "4"], options: ["--frames", "0", "--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let arena = try #require(run.origin("arena")), reserve = try #require(run.origin("arena_reserve"))
        #expect(arena["category"] as? String == "malloc-arena", "\(arena)")
        #expect(reserve["category"] as? String == "malloc-arena", "\(reserve)")
        let libc = ReportJSON.regions(run.root).first { ($0["label"] as? String)?.hasSuffix("/libc.so.6") == true && $0["inode"] as? Int == 0 }
        #expect(libc?["category"] as? String == "bss", "\(String(describing: libc))")
    }

    /// A read-only shared mapping of an ordinary file is a file; shared anonymous memory and a
    /// memfd are shared memory.
    @Test func sharedFileMappingIsAFileNotSharedMemory() throws {
        let run = try TracedRun([Build.fixture, "shared"], options: ["--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let file = try #require(ReportJSON.region(run.root, containing: run.address("shared_file")))
        #expect(file["perms"] as? String == "r--s")
        #expect(file["category"] as? String == "file", "\(file)")
        #expect(run.origin("shared_anon")?["category"] as? String == "shm")
        #expect(run.origin("shared_memfd")?["category"] as? String == "shm")
    }

    /// A program's own malloc wrapper is the site until --allocator-frames names it; a pool that
    /// maps memory itself then labels its memory and its caller is the site.
    @Test func allocatorFramesNameTheProgramsOwnAllocator() throws {
        let plain = try TracedRun.fixture("wrapper")
        #expect(plain.site(of: plain.origin("wrapper")).function == "fixture_xmalloc")
        #expect(plain.origin("pool")?["category"] as? String == "mmap")

        let named = try TracedRun.fixture("wrapper", options: ["--allocator-frames", "^fixture_(xmalloc|pool_map)$"])
        let wrapped = try #require(named.origin("wrapper"))
        #expect(wrapped["category"] as? String == "malloc")
        #expect(wrapped["allocator"] as? String == "glibc malloc")
        expectSite(named, wrapped, function: "scenario_wrapper", marker: "wrapper")
        let pool = try #require(named.origin("pool"))
        #expect(pool["category"] as? String == "allocator", "\(pool)")
        #expect(pool["allocator"] as? String == "fixture_pool_map")
        expectSite(named, pool, function: "scenario_wrapper", marker: "pool")
        #expect(pool["label"] as? String == "fixture_pool_map memory from scenario_wrapper (main.c:\(SiteMarkers.lines["pool"]!))")
    }

    @Test func munmapInTheMiddleSplitsTheMapping() throws {
        let run = try TracedRun.fixture("munmap")
        let head = try #require(run.origin("munmap_head")), tail = try #require(run.origin("munmap_tail"))
        #expect(ReportJSON.region(run.root, containing: run.address("munmap_hole")) == nil)
        expectSite(run, head, function: "scenario_munmap", marker: "munmap")
        expectSite(run, tail, function: "scenario_munmap", marker: "munmap")
        #expect(head["event"] as? Int == tail["event"] as? Int)
        #expect(hex(head["end"]) <= run.address("munmap_hole"))
        #expect(hex(tail["start"]) >= run.address("munmap_hole") + 4096)
    }

    @Test func mprotectSplitsRegionsAndKeepsTheCreator() throws {
        let run = try TracedRun.fixture("mprotect")
        let head = try #require(ReportJSON.region(run.root, containing: run.address("mprotect_head")))
        let middle = try #require(ReportJSON.region(run.root, containing: run.address("mprotect_middle")))
        #expect(head["perms"] as? String == "rw-p")
        #expect(middle["perms"] as? String == "r--p")
        let headOrigin = try #require(run.origin("mprotect_head")), middleOrigin = try #require(run.origin("mprotect_middle"))
        #expect(headOrigin["event"] as? Int == middleOrigin["event"] as? Int)
        expectSite(run, middleOrigin, function: "scenario_mprotect", marker: "mprotect")
        #expect(middleOrigin["category"] as? String == "mmap")
    }

    @Test func mremapMoveIsAttributedToTheMremap() throws {
        let run = try TracedRun.fixture("mremap")
        let moved = try #require(run.origin("mremap_new"))
        #expect(moved["syscall"] as? String == "mremap")
        #expect(moved["category"] as? String == "mmap")
        expectSite(run, moved, function: "scenario_mremap", marker: "mremap")
        #expect(hex(moved["end"]) - hex(moved["start"]) >= 8 * 4096)
        #expect(ReportJSON.origin(run.root, containing: run.address("mremap_old"))?["event"] as? Int != moved["event"] as? Int)
    }

    @Test func forkChildGetsItsOwnReport() throws {
        let run = try TracedRun.fixture("fork")
        let childPid = try #require(run.finished.values["child_pid"].flatMap { Int($0) })
        let child = try #require(run.report.process(pid: childPid))
        #expect(child["parent_pid"] as? Int == run.root["pid"] as? Int)
        #expect((child["exit"] as? [String: Any])?["code"] as? Int == 0)
        let origin = try #require(run.origin("child_mmap", in: child))
        expectSite(run, origin, function: "scenario_fork", marker: "child")
        // The child inherited the parent's model: its executable .bss is still explained.
        let bss = ReportJSON.regions(child).filter { $0["category"] as? String == "bss" }
        #expect(!bss.isEmpty)
        #expect(ReportJSON.origin(run.root, containing: run.address("child_mmap")) == nil)
    }

    /// After the second execve, nothing of the first image may explain a byte: every origin of the
    /// final map comes from that execve or a later call, and the mapping made just before it (its
    /// address printed as before_exec) explains nothing.
    @Test func execResetsTheModel() throws {
        let run = try TracedRun.fixture("exec", options: ["--all-events", "--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let origin = try #require(run.origin("mmap"))
        expectSite(run, origin, function: "scenario_mmap", marker: "mmap")
        let events = run.root["events"] as? [[String: Any]] ?? []
        let exec = try #require(events.filter { $0["syscall"] as? String == "execve" }.compactMap { $0["id"] as? Int }.max())
        let beforeExec = try #require(events.first {
            $0["syscall"] as? String == "mmap" && hex($0["result"]) == run.address("before_exec")
        }?["id"] as? Int, "the mmap before exec is not among the events")
        #expect(beforeExec < exec)
        let origins = ReportJSON.regions(run.root).flatMap { $0["origins"] as? [[String: Any]] ?? [] }
        #expect(origins.count > 10)
        let older = origins.filter { ($0["event"] as? Int).map { $0 < exec } ?? false }
        #expect(older.isEmpty, "origins from before the exec: \(older)")
    }

    @Test(arguments: ["bss", "library", "mmap", "malloc", "thread", "munmap", "mprotect", "mremap", "fork", "exec", "all"])
    func everyAnonymousByteHasAnOrigin(scenario: String) throws {
        let run = try TracedRun.fixture(scenario)
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(unattributedAnonymousBytes(run.report) == [])
    }

    @Test func exitStatusAndSignalArePassedThrough() throws {
        let exited = try TracedRun(["/bin/sh", "-c", "exit 7"])
        #expect(exited.finished.status == 7)
        #expect((exited.root["exit"] as? [String: Any])?["code"] as? Int == 7)
        let killed = try TracedRun(["/bin/sh", "-c", "kill -SEGV $$"])
        #expect(killed.finished.status == 128 + 11)
        #expect((killed.root["exit"] as? [String: Any])?["signal"] as? String == "SIGSEGV")
    }
}
