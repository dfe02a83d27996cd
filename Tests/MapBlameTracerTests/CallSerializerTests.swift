import CShims
import Testing
@testable import MapBlameTracer
import MapBlameModel

/// `CallSerializer`: one mapping call in flight per address space, the others waiting in arrival
/// order; and what each stop policy says without a process (the policies' stops themselves are
/// exercised by the run and attach tests, on real processes).
@Suite struct CallSerializerTests {
    static func tasks(_ tids: Int32...) -> [TaskState] {
        let process = ProcessState(pid: tids[0], space: SpaceState(id: 0), executable: "/bin/true")
        return tids.map { TaskState(tid: $0, process: process, awaitingInitialStop: false) }
    }

    @Test("A free space lets a call through; while it is in flight the others queue in arrival order")
    func queuesInOrder() {
        let t = Self.tasks(10, 11, 12)
        let calls = CallSerializer()
        #expect(!calls.mustWait(t[0]))
        calls.begin(10)
        #expect(!calls.mustWait(t[0]), "the holder's own stops never wait for itself")
        #expect(calls.mustWait(t[2]))
        #expect(calls.mustWait(t[1]))
        #expect(calls.next() == nil, "nobody goes while the call is in flight")
        #expect(calls.holder == 10)
        #expect(!calls.end(11), "only the holder ends its turn")
        #expect(calls.holder == 10)
        #expect(calls.end(10))
        #expect(calls.next() === t[2])
        calls.begin(12)  // its call took the turn: the next one waits again
        #expect(calls.next() == nil)
        #expect(calls.end(12))
        #expect(calls.next() === t[1])
        #expect(calls.next() == nil)
    }

    @Test("A thread that exits leaves the queue; the end of an attach session takes the whole queue")
    func forgetAndDrain() {
        let t = Self.tasks(20, 21, 22, 23)
        let calls = CallSerializer()
        calls.begin(20)
        for task in t.dropFirst() { #expect(calls.mustWait(task)) }
        calls.forget(t[2])
        #expect(calls.removeAllWaiting().map(\.tid) == [21, 23])
        #expect(calls.end(20))
        #expect(calls.next() == nil)
    }

    @Test("Launched, the registers tell the ABI and results may be predicted; attached, neither")
    func policies() {
        var regs = cshims_regs()
        regs.orig_rax = 9  // mmap on x86_64
        regs.cs = 0x33
        #expect(LaunchStops().abi(fromRegisters: regs) == .x86_64)
        #expect(LaunchStops().predictsResults)
        #expect(LaunchStops().inheritsAffinity)
        #expect(AttachStops(duration: nil).abi(fromRegisters: regs) == nil)
        #expect(!AttachStops(duration: 1).predictsResults)
        #expect(!AttachStops(duration: nil).inheritsAffinity)
    }
}
