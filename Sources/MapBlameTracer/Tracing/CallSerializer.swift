/// One address space's mapping calls, let through one at a time. The kernel applies them one at a
/// time anyway (the mm's mmap lock); holding every other thread of the space at its entry stop
/// while one call is between its entry and exit stops makes the order the model applies them in
/// the order the kernel did. Clone-family calls take a turn too: the copy a fork makes must not
/// change while the kernel makes it.
///
/// The serializer knows nothing of ptrace: it only says who holds the turn and who waits for it.
/// The tracer decides what a waiting thread does when its turn comes (`Tracer.release`).
package final class CallSerializer {
    /// The thread whose call is in flight (between its entry and exit stops).
    package private(set) var holder: Int32?
    /// Threads stopped at their entry stop, in the order they arrived.
    private var queue: [TaskState] = []

    package init() {}

    /// Whether `task` must wait because another thread's call is in flight; if so it is queued
    /// (and stays stopped until `next()` hands it back).
    package func mustWait(_ task: TaskState) -> Bool {
        guard let holder, holder != task.tid else { return false }
        queue.append(task)
        return true
    }

    /// `tid`'s call goes through: it holds the turn until `end(tid)`.
    package func begin(_ tid: Int32) {
        holder = tid
    }

    /// `tid`'s call is done (or its thread is gone). False if it did not hold the turn.
    @discardableResult
    package func end(_ tid: Int32) -> Bool {
        guard holder == tid else { return false }
        holder = nil
        return true
    }

    /// The next waiting thread, while no call is in flight; nil when the turn is taken or nobody
    /// waits. The caller lets it make its call, which may take the turn again.
    package func next() -> TaskState? {
        guard holder == nil, !queue.isEmpty else { return nil }
        return queue.removeFirst()
    }

    /// A thread that will never make its call (it exits): out of the queue.
    package func forget(_ task: TaskState) {
        queue.removeAll { $0 === task }
    }

    /// Empties the queue, returning who was in it (attach's end: they are held for the detach).
    package func removeAllWaiting() -> [TaskState] {
        defer { queue.removeAll() }
        return queue
    }
}
