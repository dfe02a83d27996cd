import CShims
import MapBlameModel

/// The seccomp filter the launched program runs under: every call of `TracedSyscall.all` stops in
/// the tracer (SECCOMP_RET_TRACE), every other call of every ABI runs at full speed.
package enum SeccompFilter {
    package static let program: [cshims_bpf_insn] = {
        let calls = TracedSyscall.all.map { cshims_traced_call(arch: $0.abi.auditArch, nr: UInt32($0.number)) }
        var program = [cshims_bpf_insn](repeating: cshims_bpf_insn(), count: 4 * calls.count + 8)
        let count = cshims_filter_build(calls, Int32(calls.count), &program, Int32(program.count))
        precondition(count > 0, "the seccomp filter does not fit")  // the table is a constant: a bug if so
        return Array(program.prefix(Int(count)))
    }()
}
