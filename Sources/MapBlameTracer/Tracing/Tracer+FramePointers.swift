import CShims
import MapBlameModel

extension Tracer {
    /// Whether an address is in executable memory of the space being unwound (the context is its
    /// SpaceState): what a return address found through the frame-pointer chain must pass before
    /// the unwinder takes it (`cshims_unwinder_set_code_check`). JIT code is anonymous memory,
    /// so the model's protection decides, not the file.
    package static let isCode: cshims_code_check = { context, ip in
        guard let context else { return 0 }
        let space = Unmanaged<SpaceState>.fromOpaque(context).takeUnretainedValue()
        guard let segment = space.model.map.segment(containing: ip) else { return 0 }
        return segment.value.prot & MemoryFlags.protExec != 0 ? 1 : 0
    }
}
