import MapBlameModel

/// What `Classifier.classify` reads from a stack alone: the stack from the libc function that
/// made the call, its site, the allocator that made the call and the functions in it (glibc's
/// base names). A report asks for them once per region piece, and a run of many short processes
/// has the same few interned stacks in every process (a shell loop: the same `sort` stacks 100
/// times): working them out again, by string tests on every frame, was a third of `report`'s time
/// (issue 21). They depend on nothing but the stack and the allocator table, so one report keeps
/// them per recorded stack.
package struct StackFacts {
    package var stack: [SymbolizedFrame]
    package var site: SymbolizedFrame?
    package var maker: Allocator?
    package var functions: Set<String>
}

/// The facts of each recorded stack (by stack index) in one report: shared by the classifiers of
/// all its processes, which share one allocator table.
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
    /// The facts of `stack` (symbolized, kernel entry included), from `memo` when it is given the
    /// stack's id.
    package func facts(of stack: [SymbolizedFrame], id: Int?) -> StackFacts {
        guard let id, let memo else { return computeFacts(of: stack) }
        return memo.facts(stack: id) { computeFacts(of: stack) }
    }

    private func computeFacts(of stack: [SymbolizedFrame]) -> StackFacts {
        let stack = Classifier.withoutKernelEntry(stack)
        return StackFacts(stack: stack, site: site(of: stack), maker: maker(of: stack),
                          functions: Set(stack.compactMap { $0.function.map(Classifier.glibcBaseName) }))
    }
}
