import CDemangle
#if canImport(Glibc)
import Glibc
import MapBlameModel
#endif

/// The Swift runtime's demangler (exported C entry point of libswiftCore). With a null output
/// buffer it returns a malloc'd, NUL-terminated string the caller must free, or null on failure.
@_silgen_name("swift_demangle")
private func _swift_demangle(
    _ mangled: UnsafePointer<CChar>?, _ length: UInt,
    _ out: UnsafeMutablePointer<CChar>?, _ outLen: UnsafeMutablePointer<UInt>?,
    _ flags: UInt32
) -> UnsafeMutablePointer<CChar>?

/// Turns linker symbol names into readable ones: Swift names via the Swift runtime, Rust names via
/// libiberty (the demangler of binutils and GDB), Itanium C++ names via libstdc++'s
/// `__cxa_demangle`. Anything else (C names, failed demangling) is returned unchanged.
package enum Demangler {
    /// Mangling prefixes of Swift 4+ (`$s`), Swift 4.x prerelease (`$S`), Swift 4.0 (`_T0`), and the
    /// Mach-O style with a leading underscore (`_$s`).
    private static let swiftPrefixes = ["$s", "$S", "_T0", "_$s", "_$S"]

    package static func demangle(_ name: String) -> String {
        if swiftPrefixes.contains(where: name.hasPrefix) {
            return demangleSwift(name) ?? name
        }
        // Rust's legacy scheme is an Itanium name whose last part is a hash (`17h<16 hex digits>E`):
        // the Rust demangler, tried first, recognizes it and leaves every other `_Z` name to C++'s.
        if name.hasPrefix("_R") || name.hasPrefix("_Z") {
            return demangleRust(name) ?? (name.hasPrefix("_Z") ? demangleCXX(name) : nil) ?? name
        }
        return name
    }

    /// `crate::module::function` without the hash (legacy) or crate disambiguators (v0): what
    /// `c++filt` and `rustfilt` print by default.
    private static func demangleRust(_ name: String) -> String? {
        guard let result = rust_demangle(name, DMGL_PARAMS | DMGL_ANSI) else { return nil }
        defer { free(result) }
        return String(cString: result)
    }

    private static func demangleSwift(_ name: String) -> String? {
        name.withCString { cName in
            let utf8Length = UInt(strlen(cName))
            guard let result = _swift_demangle(cName, utf8Length, nil, nil, 0) else { return nil }
            defer { free(result) }
            return String(cString: result)
        }
    }

    private static func demangleCXX(_ name: String) -> String? {
        var status: Int32 = 0
        guard let result = __cxa_demangle(name, nil, nil, &status) else { return nil }
        defer { free(result) }
        return status == 0 ? String(cString: result) : nil
    }
}
