/// A disagreement between the model and the kernel over a byte range.
public struct Mismatch: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case onlyInKernel = "only-in-kernel"      // mapped, but the model has nothing there
        case onlyInModel = "only-in-model"        // the model has a mapping the kernel does not
        case protection                            // rwx differ
        case sharing                               // shared vs private
        case backing                               // file vs anonymous
        case fileOffset = "file-offset"            // same file, other offset
    }
    public var range: Range<UInt64>
    public var kind: Kind
    public var kernel: String
    public var model: String
    /// False for differences the kernel causes on its own ([stack] growth, [vdso]/[vvar]).
    public var counted: Bool

    package init(range: Range<UInt64>, kind: Kind, kernel: String, model: String, counted: Bool) {
        self.range = range
        self.kind = kind
        self.kernel = kernel
        self.model = model
        self.counted = counted
    }
}

/// The result of comparing a process's model with its final /proc/PID/maps.
public struct Verification: Sendable {
    public var mismatches: [Mismatch]
    public var mappedPages: UInt64
    public var anonymousBytes: UInt64
    public var attributedAnonymousBytes: UInt64
    /// Where explain's certain evidence and the recorded categories disagree (`LabelCheck`); nil
    /// when the trace holds no evidence for this snapshot.
    public var labelDisagreements: [LabelDisagreement]? = nil

    package init(mismatches: [Mismatch], mappedPages: UInt64, anonymousBytes: UInt64, attributedAnonymousBytes: UInt64, labelDisagreements: [LabelDisagreement]? = nil) {
        self.mismatches = mismatches
        self.mappedPages = mappedPages
        self.anonymousBytes = anonymousBytes
        self.attributedAnonymousBytes = attributedAnonymousBytes
        self.labelDisagreements = labelDisagreements
    }

    /// Pages of counted (real) mismatches.
    public var mismatchedPages: UInt64 {
        mismatches.filter(\.counted).reduce(0) { $0 + UInt64($1.range.count) / MemoryFlags.pageSize }
    }
    public var agrees: Bool {
        mismatchedPages == 0 && attributedAnonymousBytes == anonymousBytes && (labelDisagreements ?? []).isEmpty
    }
}

/// A byte range where certain evidence and the recorded words disagree on what the memory is.
public struct LabelDisagreement: Sendable, Equatable {
    public var range: Range<UInt64>
    public var recordedCategory: Category
    public var recordedLabel: String
    public var evidenceCategory: Category
    public var evidenceLabel: String
    /// What the evidence was ("heap_info at the start: ...").
    public var evidence: String

    package init(range: Range<UInt64>, recordedCategory: Category, recordedLabel: String, evidenceCategory: Category, evidenceLabel: String, evidence: String) {
        self.range = range
        self.recordedCategory = recordedCategory
        self.recordedLabel = recordedLabel
        self.evidenceCategory = evidenceCategory
        self.evidenceLabel = evidenceLabel
        self.evidence = evidence
    }
}
