import Foundation
import Testing

@testable import Tasks

@Suite struct DatasetTests {
    @Test func csvFieldsQuotesAndLineEndings() throws {
        let text = "a,\"b, with comma\",c\r\n1,\"say \"\"hi\"\"\",3\r\n\n4,\"two\nlines\",6\n"
        let table = try CSVTable(text: text, path: "t.csv", hasHeader: true)
        #expect(table.header == ["a", "b, with comma", "c"])
        #expect(table.rows == [["1", "say \"hi\"", "3"], ["4", "two\nlines", "6"]])
        #expect(table.lines == [2, 4])
    }

    @Test func csvErrorsNameLineAndColumn() throws {
        #expect(throws: DatasetError.wrongFieldCount(path: "t.csv", line: 3, expected: 3, found: 2)) {
            try CSVTable(text: "x,y,label\n1,2,a\n3,4\n", path: "t.csv", hasHeader: true)
        }
        #expect(throws: DatasetError.unterminatedQuote(path: "t.csv", line: 2)) {
            try CSVTable(text: "x,y\n\"1,2\n", path: "t.csv", hasHeader: true)
        }
        let table = try CSVTable(text: "x,y,label\n1,2,a\n3,oops,b\n", path: "t.csv", hasHeader: true)
        #expect(throws: DatasetError.notANumber(path: "t.csv", line: 3, column: 2, columnName: "y", text: "oops")) {
            try CSVDataset.make(from: table, target: "label", kind: .classification)
        }
        #expect(throws: DatasetError.unknownColumn(path: "t.csv", column: "nope", available: ["x", "y", "label"])) {
            try CSVDataset.make(from: table, target: "nope", kind: .classification)
        }
        #expect(throws: DatasetError.self) { try CSVTable(text: "x,y\n", path: "t.csv", hasHeader: true) }
    }

    @Test func csvTargetsClassesAndValues() throws {
        let table = try CSVTable(text: "label,f1,f2\n10,1,2\n2,3,4\n10,5,6\n", path: "t.csv", hasHeader: true)
        let classes = try CSVDataset.make(from: table, target: "1", kind: .classification)
        #expect(classes.targets == .classes([1, 0, 1], names: ["2", "10"]))
        #expect(classes.features == [1, 2, 3, 4, 5, 6])
        #expect(classes.featureNames == ["f1", "f2"])
        let values = try CSVDataset.make(from: table, target: "label", kind: .regression)
        #expect(values.targets == .values([10, 2, 10]))
    }

    @Test func digitsLoadsTheBundledFile() throws {
        let digits = try DigitsDataset.load(data: digitsPath)
        #expect(digits.sampleCount == 1797)
        #expect(digits.featureCount == 64)
        #expect(digits.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(digits.features.contains(1))
        guard case .classes(let labels, let names) = digits.targets else {
            Issue.record("digits are classes")
            return
        }
        #expect(names == (0..<10).map(String.init))
        // scikit-learn's digits: 178 zeros, 182 ones, …, 180 nines.
        let counts = (0..<10).map { k in labels.filter { $0 == k }.count }
        #expect(counts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        // First image of load_digits(): a zero whose first row is 0,0,5,13,9,1,0,0.
        #expect(Array(digits.features[0..<8]) == [0, 0, 5, 13, 9, 1, 0, 0].map { Float($0) / 16 })
        #expect(throws: DatasetError.self) { try DigitsDataset.load(data: "/nonexistent/folder") }
    }

    @Test func stratifiedSplitIsSeededDisjointAndBalanced() throws {
        let digits = try DigitsDataset.load(data: digitsPath)
        let (train, test) = digits.split(testFraction: 0.2, seed: 5)
        #expect(train.sampleCount + test.sampleCount == 1797)
        #expect(test.sampleCount == 359)  // Σ_k round(0.2 · count_k) over the class counts below
        guard case .classes(let trainLabels, _) = train.targets, case .classes(let testLabels, _) = test.targets,
            case .classes(let allLabels, _) = digits.targets
        else {
            Issue.record("classes expected")
            return
        }
        for k in 0..<10 {
            let total = allLabels.filter { $0 == k }.count
            #expect(testLabels.filter { $0 == k }.count == Int((Double(total) * 0.2).rounded()))
            #expect(trainLabels.filter { $0 == k }.count == total - Int((Double(total) * 0.2).rounded()))
        }
        // Same seed, same split; another seed, another split.
        let again = digits.split(testFraction: 0.2, seed: 5)
        #expect(again.test.features == test.features)
        #expect(digits.split(testFraction: 0.2, seed: 6).test.features != test.features)
        // The rows of both splits together are exactly the dataset's rows.
        func rows(_ d: Dataset) -> [[Float]] { (0..<d.sampleCount).map { Array(d.features[$0 * 64..<($0 + 1) * 64]) } }
        let union = (rows(train) + rows(test)).map { $0.map(\.bitPattern) }.sorted { $0.lexicographicallyPrecedes($1) }
        let original = rows(digits).map { $0.map(\.bitPattern) }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(union == original)
    }

    @Test func standardizationUsesTrainingStatistics() throws {
        let data = Dataset(
            features: [1, 10, 3, 10, 5, 10, 7, 10], featureCount: 2, featureNames: ["a", "b"],
            targets: .values([1, 2, 3, 4]))
        let s = FeatureStandardization(fittedOn: data, standardizeTarget: true)
        #expect(s.means == [4, 10])
        #expect(abs(s.scales[0] - Float(5.0.squareRoot())) < 1e-6)
        #expect(s.scales[1] == 1)  // constant feature
        #expect(s.target?.mean == 2.5)
        let applied = s.apply(to: data)
        #expect(applied.features[1] == 0 && applied.features[0] < 0)
        let decoded = try JSONDecoder().decode(FeatureStandardization.self, from: JSONEncoder().encode(s))
        #expect(decoded == s)
    }

    @Test func gzipRejectsCorruptData() throws {
        let compressed = try Data(contentsOf: URL(fileURLWithPath: digitsPath))
        #expect(try Gzip.decompress(compressed).count > 100_000)
        #expect(throws: Gzip.Error.self) { try Gzip.decompress(compressed.prefix(2000)) }
        var corrupt = compressed
        corrupt[100] ^= 0xFF
        corrupt[101] ^= 0xFF
        #expect(throws: Gzip.Error.self) { try Gzip.decompress(corrupt) }
    }

    @Test func dataDirectorySearchOrder() throws {
        #expect(
            try DataDirectory.locate("digits.csv.gz", explicit: packageRoot.appendingPathComponent("data").path)
                == digitsPath)
        #expect(try DataDirectory.locate("digits.csv.gz", explicit: digitsPath) == digitsPath)
        #expect(throws: DatasetError.self) { try DataDirectory.locate("digits.csv.gz", explicit: "/nonexistent") }
    }
}
