import MapBlameModel

/// The time facts of a process in the report: when it started and ended, its anonymous bytes and
/// VMAs over time, and its two peaks with the sites that held anonymous memory at each.
extension ReportBuilder {
    mutating func addHistory(_ record: ProcessRecord, to report: inout ProcessReport) {
        report.startTime = record.startTime
        report.exitTime = record.exitTime
        guard let history = record.history else { return }
        report.series = history.series
        let pairs: [(PeakReport.Quantity, PeakMoment?)] = [(.anonymousBytes, history.peakAnonymous), (.mappings, history.peakMappings)]
        for (quantity, peak) in pairs {
            guard let peak else { continue }
            report.peaks.append(PeakReport(quantity: quantity, moment: peak.moment,
                                           sites: peakSites(peak.model, cutoff: peak.cutoff,
                                                            threadStacks: record.snapshot?.threadStacks ?? [])))
        }
    }

    /// The anonymous bytes of `model` grouped by site, classified as the final map's are (the
    /// model's own maps lines stand for the kernel's, which were not read at that moment).
    private mutating func peakSites(_ model: AddressSpace, cutoff: Int, threadStacks: [ThreadStack]) -> [PeakSite] {
        let classifier = Classifier(threadStacks: threadStacks, model: model, allocators: allocators, memo: stackFacts)
        var sites: [String: PeakSite] = [:]
        func add(_ o: Origin) {
            let bytes = UInt64(o.range.count)
            let key = "\(o.category.rawValue): " + (o.site?.shortDescription ?? o.label)
            var site = sites[key] ?? PeakSite(category: o.category, label: o.label, site: o.site, bytes: 0, ranges: 0, events: [])
            site.bytes += bytes
            site.ranges += 1
            if let e = o.event, site.events.last != e, !site.events.contains(e) { site.events.append(e) }
            sites[key] = site
        }
        for entry in model.mapsView() where entry.inode == 0 && !entry.path.hasPrefix("[v") {
            // Segments created after the moment (by calls that only added) are not the peak's;
            // neighbours of one creator are one range (a peak's space may be split where a later
            // call was undone on it).
            var pieces: [IntervalMap<Mapping>.Segment] = []
            for p in model.map.segments(in: entry.start..<entry.end) where !p.value.isFile && p.value.creator <= cutoff {
                if let last = pieces.last, last.range.upperBound == p.range.lowerBound, last.value.creator == p.value.creator {
                    pieces[pieces.count - 1].range = last.range.lowerBound..<p.range.upperBound
                } else {
                    pieces.append(p)
                }
            }
            for piece in pieces {
                if let seeds = recording.seeds[piece.value.creator] {
                    ReportBuilder.seeded(piece.range, seeds: seeds, entry: entry).forEach { add($0.0) }
                    continue
                }
                guard let event = recording.events[piece.value.creator] else { continue }
                let stack = symbolize(stack: event.stack)
                let c = classifier.classify(event: event, created: piece.value, stack: stack, range: piece.range, entry: entry,
                                            stackID: factsKey(stack: event.stack))
                add(Origin(range: piece.range, event: event.id, syscall: event.syscall, category: c.category, label: c.label,
                           site: c.site, allocator: c.allocator, attribution: c.attribution))
            }
        }
        return sites.values.map { s in
            var s = s
            s.events.sort()
            return s
        }.sorted { ($0.bytes, $1.name) > ($1.bytes, $0.name) }
    }
}
