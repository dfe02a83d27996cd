/// The syscalls mapblame records, as the x86_64 calls (an i386 call is recorded as the x86_64 call
/// it is equivalent to: `TracedSyscall`). `execve` stands for the regions the kernel creates at exec with
/// no syscall of their own (the executable's segments and .bss, [stack], [vdso], [vvar], ld.so).
public enum MappingSyscall: String, Codable, Sendable, CaseIterable {
    case mmap, munmap, mremap, mprotect, pkey_mprotect, brk, shmat, shmdt, execve

    /// `allCases`, computed once (the synthesized property builds a new array at every use).
    package static let ordered = allCases

    /// The syscall's number in the trace format: its position in `allCases`.
    package var traceIndex: UInt8 {
        switch self {
        case .mmap: 0
        case .munmap: 1
        case .mremap: 2
        case .mprotect: 3
        case .pkey_mprotect: 4
        case .brk: 5
        case .shmat: 6
        case .shmdt: 7
        case .execve: 8
        }
    }
}

/// One frame of a recorded backtrace: the raw instruction pointer plus where it was at record
/// time (module path and offset in the module file), so symbols can be resolved after the process
/// is gone and after the module was unmapped.
public struct Frame: Hashable, Sendable {
    public var ip: UInt64
    /// Path of the file mapping (or pseudo-path such as "[vdso]") containing `ip`; nil if unmapped.
    public var module: String?
    /// `ip - mappingStart + mappingFileOffset`.
    public var fileOffset: UInt64
    /// A Python frame (ip, module and offset are then 0 and nil): `PythonFrame`.
    public var python: PythonFrame?

    public init(ip: UInt64, module: String?, fileOffset: UInt64, python: PythonFrame? = nil) {
        self.ip = ip
        self.module = module
        self.fileOffset = fileOffset
        self.python = python
    }
}

/// A recorded mapping syscall (or the synthesized exec event), with its result.
public struct MappingEvent: Sendable, Equatable {
    public var id: Int
    public var pid: Int32
    public var tid: Int32
    /// The call, decoded (what the model, the classifier and the reporters read).
    public var call: MappingCall
    /// The argument registers as recorded (all six, as the x86_64 call had them): only shown
    /// raw (JSON `args`) and written to the trace; `call` is what they mean.
    public var registers: [UInt64]
    /// The raw return value: an address or 0 on success, -errno on failure (brk returns the break).
    public var result: Int64
    /// Index into `Recording.stacks`.
    public var stack: Int
    /// For file-backed mmap: the path behind the fd at the time of the call.
    public var filePath: String?
    /// For an anonymous MAP_FIXED mmap: the file whose mapping ends exactly where this one starts
    /// (how ld.so zero-fills a library's .bss tail).
    public var fileBelow: String?
    /// For shmat: the attached size, read from /proc at the exit stop.
    public var length: UInt64?
    /// When the tracer recorded the call (at the stop that completed it), in ns since the
    /// recording started (CLOCK_MONOTONIC); nil in traces written before timestamps.
    public var time: UInt64?

    package init(id: Int, pid: Int32, tid: Int32, syscall: MappingSyscall, args: [UInt64], result: Int64, stack: Int, filePath: String? = nil, fileBelow: String? = nil, length: UInt64? = nil, time: UInt64? = nil) {
        self.id = id
        self.pid = pid
        self.tid = tid
        self.call = MappingCall(syscall, registers: args)
        self.registers = args
        self.result = result
        self.stack = stack
        self.filePath = filePath
        self.fileBelow = fileBelow
        self.length = length
        self.time = time
    }

    /// A call decoded by the tracer, with the registers it was decoded from.
    package init(id: Int, pid: Int32, tid: Int32, call: MappingCall, registers: [UInt64], result: Int64, stack: Int,
                 filePath: String? = nil) {
        self.init(id: id, pid: pid, tid: tid, syscall: call.syscall, args: [], result: result, stack: stack, filePath: filePath)
        self.call = call
        self.registers = registers
    }

    public var syscall: MappingSyscall { call.syscall }

    public var failed: Bool {
        syscall != .brk && result < 0 && result >= -4095
    }
}

/// How a traced process ended.
public enum ExitStatus: Sendable, Equatable {
    case code(Int32)
    case signal(Int32)

    /// The shell convention: the code, or 128+N for death by signal N.
    public var shellStatus: Int32 {
        switch self {
        case .code(let c): return c
        case .signal(let s): return 128 + s
        }
    }
}
