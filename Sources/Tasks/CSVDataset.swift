/// Turns a CSV table into a `Dataset`: one column is the target, every other column a numeric
/// feature.
public enum CSVDataset {
    /// Whether the target is a class label or a real value.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case classification, regression
    }

    /// The dataset in `table` with `target` as the target column.
    ///
    /// Classification labels may be any non-empty text; classes are numbered in sorted order of
    /// their labels (numerically when every label is a number, so `"2" < "10"`, and then by value:
    /// `1` and `1.0` are one class). Regression targets and all
    /// features must be numbers.
    ///
    /// - Parameters:
    ///   - target: the target column's header name or 1-based number; `nil` means the last column.
    /// - Throws: `DatasetError.unknownColumn`, `.notANumber` or `.outOfFloatRange` (naming line
    ///   and column), `.emptyLabel` (naming the line), or `.tooFewClasses`.
    public static func make(from table: CSVTable, target: String?, kind: Kind) throws -> Dataset {
        let targetColumn = try target.map { try table.columnIndex($0) } ?? table.header.count - 1
        let featureColumns = (0..<table.header.count).filter { $0 != targetColumn }
        guard !featureColumns.isEmpty else {
            throw DatasetError.unknownColumn(
                path: table.path, column: "(a feature column besides the target)", available: table.header)
        }
        var features = [Float]()
        features.reserveCapacity(table.rows.count * featureColumns.count)
        for row in table.rows.indices {
            for column in featureColumns { features.append(Float(try table.number(row: row, column: column))) }
        }
        let targets: Dataset.Targets
        switch kind {
        case .regression:
            targets = .values(try table.rows.indices.map { Float(try table.number(row: $0, column: targetColumn)) })
        case .classification:
            var labels = table.rows.map { $0[targetColumn].trimmingCharacters(in: .whitespaces) }
            if let empty = labels.firstIndex(of: "") {
                throw DatasetError.emptyLabel(
                    path: table.path, line: table.lines[empty], column: targetColumn + 1,
                    columnName: table.header[targetColumn])
            }
            let values = labels.map { Double($0) }
            if values.allSatisfy({ $0 != nil && $0!.isFinite }) {
                // Numeric labels name a class by value: "1", "1.0" and "1e0" are one class, named
                // as it is first spelled.
                var spelling: [Double: String] = [:]
                for (label, value) in zip(labels, values) where spelling[value!] == nil { spelling[value!] = label }
                labels = values.map { spelling[$0!]! }
            }
            var names = Array(Set(labels))
            if values.allSatisfy({ $0 != nil && $0!.isFinite }) {
                names.sort { Double($0)! < Double($1)! }
            } else {
                names.sort()
            }
            guard names.count >= 2 else {
                throw DatasetError.tooFewClasses(
                    path: table.path, column: table.header[targetColumn], found: names.count)
            }
            let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            targets = .classes(labels.map { index[$0]! }, names: names)
        }
        return Dataset(
            features: features, featureCount: featureColumns.count,
            featureNames: featureColumns.map { table.header[$0] }, targets: targets)
    }
}
