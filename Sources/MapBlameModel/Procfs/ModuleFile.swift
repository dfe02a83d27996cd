import Glibc

/// Opens the file behind a mapping of a live process, as that process sees it. The path in
/// /proc/PID/maps is written from mapblame's root: a file of another mount namespace (a container,
/// `unshare -m` and a bind mount) shows the path inside that namespace, which here names another
/// file or none. So the candidates are, in order:
/// - `/proc/PID/map_files/START-END`: the mapped file itself (following it needs CAP_SYS_ADMIN);
/// - `/proc/PID/root` + path: the path resolved in the process's own root and mount namespace;
/// - the path itself (a chroot's files are visible from here under their full path).
/// The last two are taken only if their device and inode are the mapping's, so a file that merely
/// has the same name is never read in place of the mapped one.
package enum ModuleFile {
    /// A read-only, close-on-exec descriptor of the file mapped by `entry` in process `pid`, or nil.
    package static func open(pid: Int32, entry: MapsEntry) -> Int32? {
        let range = String(entry.start, radix: 16) + "-" + String(entry.end, radix: 16)
        let exact = Glibc.open("/proc/\(pid)/map_files/\(range)", O_RDONLY | O_CLOEXEC)
        if exact >= 0 { return exact }
        guard entry.isFile, entry.path.hasPrefix("/"), !entry.path.hasSuffix(" (deleted)") else { return nil }
        for candidate in ["/proc/\(pid)/root" + entry.path, entry.path] {
            let fd = Glibc.open(candidate, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if isMapped(fd, by: entry) { return fd }
            close(fd)
        }
        return nil
    }

    /// The mapping of process `pid` that contains `address` (its own /proc/PID/maps line), opened.
    package static func open(pid: Int32, containing address: UInt64) -> (fd: Int32, entry: MapsEntry)? {
        guard let entry = ProcFile.maps(pid)?.first(where: { $0.start <= address && address < $0.end }),
              let fd = open(pid: pid, entry: entry) else { return nil }
        return (fd, entry)
    }

    /// Whether process `pid` resolves a path to the file mapblame does: same mount namespace, same
    /// root. The path in its maps is then the file it mapped (unless replaced since, which the
    /// build-id check of the report catches).
    package static func resolvesPathsAsWeDo(_ pid: Int32) -> Bool {
        guard let namespace = ProcFile.readLink("/proc/\(pid)/ns/mnt") else { return false }
        return namespace == ownMountNamespace && ProcFile.readLink("/proc/\(pid)/root") == "/"
    }

    /// mapblame's own mount namespace, read once: it never calls setns or unshare.
    private static let ownMountNamespace = ProcFile.readLink("/proc/self/ns/mnt")

    /// Whether the open file has the device ("major:minor", hex) and inode of the maps line.
    package static func isMapped(_ fd: Int32, by entry: MapsEntry) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0, UInt64(st.st_ino) == entry.inode else { return false }
        let parts = entry.device.split(separator: ":").compactMap { UInt32($0, radix: 16) }
        guard parts.count == 2 else { return false }
        // glibc's dev_t layout (the major/minor macros, which Swift does not import).
        let dev = UInt64(st.st_dev)
        let major = UInt32(truncatingIfNeeded: ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff))
        let minor = UInt32(truncatingIfNeeded: (dev & 0xff) | ((dev >> 12) & ~0xff))
        return major == parts[0] && minor == parts[1]
    }
}
