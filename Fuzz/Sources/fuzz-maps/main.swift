// /proc/PID/maps text → MapsEntry.parseMaps; every accepted entry is used.
import FuzzSupport
import MapBlame

fuzzMain { bytes in
    guard let entries = try? MapsEntry.parseMaps(String(decoding: bytes, as: UTF8.self)) else { return }
    for e in entries { _ = (e.size, e.isShared, e.isFile, e.isPseudo, e.isUnnamed) }
}
