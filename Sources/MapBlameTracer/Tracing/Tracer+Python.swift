import CShims
import MapBlameModel

extension Tracer {
    /// `frames` (native, innermost first) with the Python frames of the stopped thread put in:
    /// each run of Python frames the interpreter's evaluation loop executes goes right before that
    /// loop's native frame (the innermost run before the innermost `_PyEval_EvalFrameDefault`),
    /// so the stack reads mmap ← ... ← list_resize ← ... ← build_cache (app.py:12) ←
    /// _PyEval_EvalFrameDefault ← ... ← main (app.py:30) ← _PyEval_EvalFrameDefault ← ...
    /// Runs whose loop frame is beyond the native frames kept (`--frames`) go at the end, in order.
    func withPythonFrames(_ frames: [Frame], task: TaskState, regs: cshims_regs) -> [Frame] {
        guard options.pythonFrames, options.maxFrames > 0, regs.cs != Tracer.user32CodeSegment else { return frames }
        var interpreter: PythonInterpreter?
        var path = ""
        for frame in frames {
            guard let module = frame.module, PythonSupport.mayBeInterpreter(module) else { continue }
            interpreter = python.interpreter(for: frame, path: module, space: task.process.space.id, tid: task.tid,
                                             notice: options.notice)
            path = module
            if interpreter != nil { break }
        }
        guard let interpreter else { return frames }
        let bias = interpreter.bias
        let loops = frames.indices.filter { frames[$0].module == path && interpreter.isEvaluationLoop(elfAddress: frames[$0].ip &- bias) }
        guard !loops.isEmpty else { return frames }  // no Python code is running on this stack
        var runs = interpreter.frames(pid: task.tid, fsBase: regs.fs_base, limit: options.maxFrames)
        guard !runs.isEmpty else { return frames }
        var result: [Frame] = []
        result.reserveCapacity(frames.count + runs.reduce(0) { $0 + $1.count })
        for (index, frame) in frames.enumerated() {
            if !runs.isEmpty, loops.contains(index) {
                result += runs.removeFirst().map { Frame(ip: 0, module: nil, fileOffset: 0, python: $0) }
            }
            result.append(frame)
        }
        for run in runs { result += run.map { Frame(ip: 0, module: nil, fileOffset: 0, python: $0) } }
        return result
    }
}
