import ArgumentParser

/// `attach --duration`: seconds (`30`, `2.5`) or a number with a unit (`500ms`, `2s`, `5m`, `1h`).
/// A value it cannot read is refused with the forms it takes.
struct SessionDuration: ExpressibleByArgument {
    var seconds: Double

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(argument), scale = 1.0
        for (suffix, factor) in units where argument.hasSuffix(suffix) {
            number = argument.dropLast(suffix.count)
            scale = factor
            break
        }
        // Only plain decimal numbers: Double("inf"), "nan" and hexadecimal floats are not durations.
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number), value > 0, value * scale <= 1e9 else { return nil }
        seconds = value * scale
    }

    /// For `@Option(transform:)`: argument-parser shows the error's text after its own, so the
    /// message says which forms are read.
    static func parse(_ text: String) throws -> SessionDuration {
        guard let duration = SessionDuration(argument: text) else {
            throw ValidationError("give seconds (30, 2.5) or a number with a unit (500ms, 2s, 5m, 1h), more than 0")
        }
        return duration
    }
}
