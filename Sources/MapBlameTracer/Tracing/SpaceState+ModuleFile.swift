import MapBlameModel
import Glibc

extension SpaceState {
    /// The file of the module mapped at `ip`, opened as the traced process sees it, found from the
    /// model alone: the model's mapping is the kernel's (same start, end, offset and file), so
    /// `/proc/TID/map_files/START-END` opens it without reading /proc/TID/maps, which costs a
    /// kernel walk of every mapping (thousands in a browser). nil when that link cannot be followed
    /// (it needs CAP_SYS_ADMIN) or the model's range is not exactly one mapping of the kernel's;
    /// the caller then reads /proc/TID/maps once for this module (`ModuleFile.open(pid:containing:)`).
    package func openModuleFromModel(at ip: UInt64, tid: Int32) -> (fd: Int32, entry: MapsEntry)? {
        guard let segment = model.map.segment(containing: ip), segment.value.isFile,
              let name = segment.value.name else { return nil }
        let prot = segment.value.prot
        let perms = (prot & UInt64(PROT_READ) != 0 ? "r" : "-") + (prot & UInt64(PROT_WRITE) != 0 ? "w" : "-")
            + (prot & UInt64(PROT_EXEC) != 0 ? "x" : "-") + (segment.value.shared ? "s" : "p")
        // device and inode unknown to the model: ModuleFile.open takes only map_files then.
        let entry = MapsEntry(start: segment.range.lowerBound, end: segment.range.upperBound, perms: perms,
                              offset: segment.value.fileOffset, device: "", inode: 0, path: name)
        guard let fd = ModuleFile.open(pid: tid, entry: entry) else { return nil }
        return (fd, entry)
    }
}
