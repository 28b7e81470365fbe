import Foundation
import Testing

@testable import Tasks

/// The IDX reader on the tiny folder of scripts/fixtures/idx_fixture.py, damaged copies of it,
/// and the real Fashion-MNIST files when the Debian package is installed.
@Suite struct IDXTests {
    static let tiny = packageRoot.appendingPathComponent("Tests/TasksTests/Fixtures/idx-tiny").path

    struct Reference: Decodable {
        var train_labels: [Int]
        var test_labels: [Int]
        var train_first_image: [Int]
        var test_last_image: [Int]
    }

    static func reference() throws -> Reference {
        let url = packageRoot.appendingPathComponent("Tests/TasksTests/Fixtures/idx_tiny.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// A copy of the tiny folder in a fresh temporary folder (plain files only, so they can be cut).
    static func copyOfTiny() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-idx-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in [IDXDataset.trainImages, IDXDataset.trainLabels, IDXDataset.testImages, IDXDataset.testLabels] {
            let source = (tiny as NSString).appendingPathComponent(name)
            let raw = try Data(
                contentsOf: URL(
                    fileURLWithPath: FileManager.default.fileExists(atPath: source) ? source : source + ".gz"))
            try (Gzip.isCompressed(raw) ? Gzip.decompress(raw) : raw).write(
                to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))
        }
        return folder
    }

    @Test func readsGzippedAndPlainFilesAsNumpyWroteThem() throws {
        let reference = try Self.reference()
        let (train, test) = try IDXDataset.load(folder: Self.tiny)
        #expect(train.sampleCount == 5 && test.sampleCount == 3)
        #expect(train.featureCount == 12)
        #expect(train.featureNames[3] == "pixel_1_0", "row-major: the 4th pixel starts row 1 of a 3-column image")
        #expect(train.targets == .classes(reference.train_labels, names: ["0", "1", "2"]))
        #expect(test.targets == .classes(reference.test_labels, names: ["0", "1", "2"]))
        #expect(Array(train.features[0..<12]) == reference.train_first_image.map { Float($0) / 255 })
        #expect(Array(test.features[24..<36]) == reference.test_last_image.map { Float($0) / 255 })
        let task = try TaskCatalog.make("idx:\(Self.tiny)")
        #expect(task.inputSize == 12 && task.outputSize == 3)
    }

    @Test func wrongMagicNamesFileAndOffset() throws {
        let folder = try Self.copyOfTiny()
        let labels = (folder as NSString).appendingPathComponent(IDXDataset.trainLabels)
        #expect(throws: IDXError.wrongMagic(path: labels, offset: 0, found: 0x801, expected: 0x803)) {
            try IDXFile(path: labels, magic: IDXFile.imagesMagic)
        }
        let message = "\(IDXError.wrongMagic(path: labels, offset: 0, found: 0x801, expected: 0x803))"
        #expect(message.contains(labels) && message.contains("byte 0") && message.contains("0x00000801"))
    }

    @Test func truncatedAndOverlongFilesAreErrorsWithOffsets() throws {
        let folder = try Self.copyOfTiny()
        let images = (folder as NSString).appendingPathComponent(IDXDataset.trainImages)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: images))
        #expect(bytes.count == 16 + 5 * 12)
        try bytes.prefix(50).write(to: URL(fileURLWithPath: images))
        #expect(throws: IDXError.truncated(path: images, offset: 50, needed: 76, size: 50)) {
            try IDXDataset.load(folder: folder)
        }
        try bytes.prefix(10).write(to: URL(fileURLWithPath: images))
        #expect(throws: IDXError.truncated(path: images, offset: 8, needed: 12, size: 10), "cut inside the header") {
            try IDXFile(path: images, magic: IDXFile.imagesMagic)
        }
        try (bytes + [1, 2]).write(to: URL(fileURLWithPath: images))
        #expect(throws: IDXError.trailingBytes(path: images, offset: 76, size: 78)) {
            try IDXFile(path: images, magic: IDXFile.imagesMagic)
        }
        // A gzip stream cut short names the file and where the compressed data end.
        let gz = (Self.tiny as NSString).appendingPathComponent(IDXDataset.trainImages + ".gz")
        let cut = (folder as NSString).appendingPathComponent("cut.gz")
        try Data(contentsOf: URL(fileURLWithPath: gz)).prefix(40).write(to: URL(fileURLWithPath: cut))
        do {
            _ = try IDXFile(path: cut, magic: IDXFile.imagesMagic)
            Issue.record("a truncated gzip file must not load")
        } catch let error as IDXError {
            #expect("\(error)".contains(cut) && "\(error)".contains("byte 40"))
        }
    }

    /// Found by scripts/fuzz.sh idx: 1025 × 134,218,644 × 3,711,443,200 images overflowed the
    /// size computation (a trap).
    @Test func dimensionsWhoseProductOverflowsAreAnError() throws {
        let header: [UInt8] = [0, 0, 8, 3, 0x00, 0x00, 0x04, 0x01, 0x08, 0x00, 0x03, 0x94, 0xDD, 0x38, 0x21, 0x00]
        #expect(
            throws: IDXError.oversized(path: "huge.idx", offset: 4, dimensions: [1025, 134_218_644, 3_711_443_200])
        ) {
            try IDXFile(contents: Data(header), path: "huge.idx", magic: IDXFile.imagesMagic)
        }
        let message =
            "\(IDXError.oversized(path: "huge.idx", offset: 4, dimensions: [1025, 134_218_644, 3_711_443_200]))"
        #expect(message.hasPrefix("huge.idx: byte 4: dimensions [1025, 134218644, 3711443200]"))
    }

    @Test func countMismatchAndMissingFilesAreErrors() throws {
        let folder = try Self.copyOfTiny()
        let labels = (folder as NSString).appendingPathComponent(IDXDataset.trainLabels)
        try Data([0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 2, 1]).write(to: URL(fileURLWithPath: labels))
        #expect(
            throws: IDXError.countMismatch(
                images: (folder as NSString).appendingPathComponent(IDXDataset.trainImages), imageCount: 5,
                labels: labels, labelCount: 4)
        ) {
            try IDXDataset.load(folder: folder)
        }
        try Data([0, 0, 8, 1, 0, 0, 0, 5, 0, 1, 0, 1, 7]).write(to: URL(fileURLWithPath: labels))
        #expect(throws: IDXError.labelOutOfRange(path: labels, offset: 12, label: 7, classCount: 2)) {
            try IDXDataset.load(folder: folder, classNames: ["a", "b"])
        }
        do {
            _ = try FashionMNIST.load(folder: "/nonexistent/fashion")
            Issue.record("a missing folder must not load")
        } catch let error as IDXError {
            #expect(
                error
                    == .fileNotFound(
                        path: "/nonexistent/fashion/train-images-idx3-ubyte.gz", package: "dataset-fashion-mnist"))
            #expect("\(error)".contains("apt-get install dataset-fashion-mnist"))
        }
    }

    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: FashionMNIST.defaultFolder),
            "needs the Debian package dataset-fashion-mnist"))
    func realFashionMNIST() throws {
        let images = try IDXFile(
            path: FashionMNIST.defaultFolder + "/train-images-idx3-ubyte.gz", magic: IDXFile.imagesMagic)
        #expect(images.dimensions == [60_000, 28, 28])
        let (train, test) = try FashionMNIST.load(limit: 10)
        #expect(train.featureCount == 784 && train.sampleCount == 10 && test.sampleCount == 10)
        // First labels as numpy reads the files: 9 0 0 3 0 2 7 2 5 5 and 9 2 1 1 6 1 4 6 5 7.
        #expect(train.targets == .classes([9, 0, 0, 3, 0, 2, 7, 2, 5, 5], names: FashionMNIST.classNames))
        #expect(test.targets == .classes([9, 2, 1, 1, 6, 1, 4, 6, 5, 7], names: FashionMNIST.classNames))
        // First training image: pixel sum 76,247 / 255, largest 255 first at index 417.
        let first = Array(train.features[0..<784])
        #expect(abs(first.reduce(0, +) - 76_247 / 255) < 1e-2)
        #expect(first.firstIndex(of: 1) == 417)
        // The built-in task: the published split, 784 inputs, 10 classes.
        let task = try #require(try TaskCatalog.make("fashion-mnist") as? DatasetTask)
        #expect(task.train.sampleCount == 60_000 && task.test.sampleCount == 10_000)
        #expect(task.inputSize == 784 && task.outputSize == 10)
    }
}
