/// The anonymous bytes one site held at a peak.
public struct PeakSite: Sendable {
    public var category: Category
    public var label: String
    /// The first frame outside libc, ld.so and every allocator (nil: none, the label says what).
    public var site: SymbolizedFrame?
    public var bytes: UInt64
    /// Byte ranges (one per creating call and VMA) that make up `bytes`.
    public var ranges: Int
    /// The calls that created them, in id order.
    public var events: [Int]

    package init(category: Category, label: String, site: SymbolizedFrame?, bytes: UInt64, ranges: Int, events: [Int]) {
        self.category = category
        self.label = label
        self.site = site
        self.bytes = bytes
        self.ranges = ranges
        self.events = events
    }

    /// "category: site" as the text report's top sites name it.
    public var name: String { "\(category.rawValue): " + (site?.shortDescription ?? label) }
}

/// A process's peak of one quantity: the first moment it was highest, and what held anonymous
/// memory then.
public struct PeakReport: Sendable {
    public enum Quantity: String, Sendable, CaseIterable {
        /// Anonymous bytes mapped (`SpaceMoment.anonymousBytes`).
        case anonymousBytes = "anonymous_bytes"
        /// VMAs (`SpaceMoment.mappings`), what `vm.max_map_count` limits.
        case mappings
    }

    public var quantity: Quantity
    public var moment: SpaceMoment
    /// Anonymous bytes by site at that moment, most first.
    public var sites: [PeakSite]

    package init(quantity: Quantity, moment: SpaceMoment, sites: [PeakSite]) {
        self.quantity = quantity
        self.moment = moment
        self.sites = sites
    }
}
