import MapBlameModel

/// Python frames count as code for the site: in a stack with Python frames, the interpreter's own
/// C code (the module whose evaluation loop runs them: bytes, lists, the object allocator, the
/// thread module) is never the site, nor is the Python standard library while a frame of the
/// program's own code is further out, so the site is the line of the program that asked.
extension Classifier {
    /// The modules of the native frames right after a run of Python frames: the interpreter's
    /// (libpython or the python executable). Empty for a stack without Python frames.
    package static func interpreterModules(_ stack: [SymbolizedFrame]) -> Set<String> {
        var modules = Set<String>()
        for (i, frame) in stack.enumerated() where frame.kind == .python && i + 1 < stack.count {
            if stack[i + 1].kind == .native, let module = stack[i + 1].module { modules.insert(module) }
        }
        return modules
    }

    /// A frame of the Python standard library: frozen modules (`<frozen importlib._bootstrap>`) and
    /// files under a `lib/python3.X` directory outside `site-packages` and `dist-packages`.
    package static func isPythonLibrary(_ frame: SymbolizedFrame) -> Bool {
        guard frame.kind == .python, let file = frame.file else { return false }
        if file.hasPrefix("<frozen ") { return true }
        return file.contains("/lib/python3") && !file.contains("/site-packages/") && !file.contains("/dist-packages/")
    }

    /// The site of a stack with Python frames (nil when it has none): the first frame that is
    /// neither libc, an allocator, a sanitizer, the interpreter nor the standard library; else
    /// the innermost Python frame (a mapping made by the standard library alone, at imports).
    package func pythonSite(of stack: [SymbolizedFrame], embedded: Set<String>) -> SymbolizedFrame?? {
        let interpreter = Classifier.interpreterModules(stack)
        guard !interpreter.isEmpty else { return nil }
        let own = stack.first { frame in
            if frame.kind == .python { return !Classifier.isPythonLibrary(frame) }
            return !Classifier.isLibc(frame, embedded: embedded) && allocators.allocator(of: frame) == nil
                && !Classifier.isSanitizerRuntime(frame) && !interpreter.contains(frame.module ?? "")
        }
        return .some(own ?? stack.first { $0.kind == .python })
    }
}
