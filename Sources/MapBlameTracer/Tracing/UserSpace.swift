import Glibc
import MapBlameModel

/// Facts about this kernel's user address space that the model needs.
package enum UserSpace {
    /// TASK_SIZE: with 5-level paging (LA57) the kernel honours an mmap hint above 2^47; with
    /// 4-level paging it cannot. Probed once with a PROT_NONE page.
    package static let taskSize: UInt64 = {
        let hint = UnsafeMutableRawPointer(bitPattern: UInt(1) << 48)
        guard let p = mmap(hint, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            return 0x7fff_ffff_f000
        }
        munmap(p, 4096)
        return UInt(bitPattern: p) >= UInt(1) << 47 ? 0x00ff_ffff_ffff_f000 : 0x7fff_ffff_f000
    }()

    /// TASK_SIZE of a 32-bit task (IA32_PAGE_OFFSET): 4 GiB less a page the kernel keeps.
    package static let taskSize32: UInt64 = 0xffff_e000
}
