// /proc/PID/smaps text → SmapsUsage.parseSmaps.
import FuzzSupport
import MapBlame

fuzzMain { bytes in
    _ = try? SmapsUsage.parseSmaps(String(decoding: bytes, as: UTF8.self))
}
