import MapBlameModel

/// What `Classifier.classify` reads from a stack alone: how many frames the kernel entry takes
/// before the libc function that made the call, where the site is, the allocator that made the
/// call, the functions in it (glibc's base names) and the malloc entry point. A report asks for them once per region
/// piece, and a run of many short processes has the same few stacks in every process (a shell
/// loop: 3,029 recorded stacks, 29 once the addresses are taken out): working them out again, by
/// string tests on every frame, was a third of `report`'s time (issue 21). They depend on nothing
/// but the frames' names and modules and the allocator table, so a report keeps them per stack
/// shape (`ReportBuilder.factsKey`): positions, not frames, as each process has its own addresses.
package struct StackFacts {
    /// Frames before the libc function that made the call (a 32-bit kernel entry in the [vdso]).
    package var entryFrames: Int
    /// The site's position in the stack without those frames.
    package var site: Int?
    package var maker: Allocator?
    package var functions: Set<String>
    /// The glibc malloc entry point the program called (`Classifier.mallocEntry`).
    package var mallocEntry: String?
}

/// The facts of each stack shape (by the id the caller gives it) in one report: shared by the
/// classifiers of all its processes, which share one allocator table.
package final class StackFactsMemo {
    private var facts: [Int: StackFacts] = [:]
    package init() {}

    package func facts(stack id: Int, or compute: () -> StackFacts) -> StackFacts {
        if let known = facts[id] { return known }
        let computed = compute()
        facts[id] = computed
        return computed
    }
}

extension Classifier {
    /// The stack from the libc function that made the call, its site, maker and functions: from
    /// `memo` when the stack's shape has an id there (nil: worked out here).
    package func facts(of stack: [SymbolizedFrame], id: Int?)
        -> (stack: [SymbolizedFrame], site: SymbolizedFrame?, maker: Allocator?, functions: Set<String>, mallocEntry: String?) {
        var facts = computeIf(id: id, stack)
        if facts.entryFrames > stack.count || facts.site.map({ $0 >= stack.count - facts.entryFrames }) ?? false {
            facts = computeFacts(of: stack)  // an id given to stacks of two shapes: not trusted
        }
        let own = Array(stack.dropFirst(facts.entryFrames))
        return (own, facts.site.map { own[$0] }, facts.maker, facts.functions, facts.mallocEntry)
    }

    private func computeIf(id: Int?, _ stack: [SymbolizedFrame]) -> StackFacts {
        guard let id, let memo else { return computeFacts(of: stack) }
        return memo.facts(stack: id) { computeFacts(of: stack) }
    }

    private func computeFacts(of stack: [SymbolizedFrame]) -> StackFacts {
        let own = Classifier.withoutKernelEntry(stack)
        let site = site(of: own)
        // The site is a frame of the stack: its first position holding an equal frame.
        return StackFacts(entryFrames: stack.count - own.count, site: site.flatMap { s in own.firstIndex { $0 == s } },
                          maker: maker(of: own), functions: Set(own.compactMap { $0.function.map(Classifier.glibcBaseName) }),
                          mallocEntry: mallocEntry(of: own))
    }
}
