/// Which files are shared memory rather than files: what `run` and `explain` both call `shm`.
/// A shared mapping of an ordinary file (a locale archive, gconv-modules.cache mapped r--s) is a
/// file like any other: sharing says how it is mapped, not what it is.
package enum SharedMemory {
    /// System V segments (/SYSV...), POSIX shared memory (/dev/shm/...), memfd_create files
    /// (/memfd:NAME), and shared anonymous memory as the kernel names it ("/dev/zero (deleted)";
    /// a private mapping of /dev/zero shows as plain "/dev/zero" and shares nothing).
    package static func isSharedMemoryFile(_ path: String) -> Bool {
        path.hasPrefix("/SYSV") || path.hasPrefix("/dev/shm/") || path.hasPrefix("/memfd:") || path == "/dev/zero (deleted)"
    }
}
