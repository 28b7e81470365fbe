import Foundation

/// An MNIST-format folder: the four IDX files of a published train/test split of grey images.
///
/// File names, as MNIST, Fashion-MNIST and Kuzushiji-MNIST ship them (each may also be plain,
/// without `.gz`): `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
/// `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`. Pixels (0–255) become features
/// `pixel / 255` in `[0, 1]`, row-major (`pixel_r_c` is row r, column c), so a sample is both the
/// flattened `[H·W]` input of an MLP and the `[1, H, W]` input of a convolutional network. Labels
/// are classes `0 ..< K`, K being the largest label plus one (at least 2) unless class names are
/// given.
public enum IDXDataset {
    /// The four standard file names, without `.gz`.
    public static let trainImages = "train-images-idx3-ubyte"
    public static let trainLabels = "train-labels-idx1-ubyte"
    public static let testImages = "t10k-images-idx3-ubyte"
    public static let testLabels = "t10k-labels-idx1-ubyte"
    /// Largest pixel value; features are `pixel / 255`.
    public static let maxPixel: Float = 255

    /// The published split in `folder`.
    ///
    /// - Parameters:
    ///   - classNames: names of the classes (their count fixes K); `nil` numbers them.
    ///   - package: the Debian package that ships the folder, named when a file is missing.
    ///   - limit: read at most this many samples of each split (tests); `nil` reads all.
    /// - Throws: `IDXError` for a missing, truncated or malformed file, images and labels of
    ///   different counts, images of different sizes in the two splits, or a label out of range.
    public static func load(
        folder: String, classNames: [String]? = nil, package: String? = nil, limit: Int? = nil
    ) throws -> (train: Dataset, test: Dataset) {
        let trainImagesFile = try read(folder, trainImages, magic: IDXFile.imagesMagic, package: package)
        let trainLabelsFile = try read(folder, trainLabels, magic: IDXFile.labelsMagic, package: package)
        let testImagesFile = try read(folder, testImages, magic: IDXFile.imagesMagic, package: package)
        let testLabelsFile = try read(folder, testLabels, magic: IDXFile.labelsMagic, package: package)
        let shape = Array(trainImagesFile.dimensions.dropFirst())
        if Array(testImagesFile.dimensions.dropFirst()) != shape {
            throw IDXError.wrongShape(
                path: testImagesFile.path, offset: 8, expected: shape,
                found: Array(testImagesFile.dimensions.dropFirst()))
        }
        let largest = max(trainLabelsFile.bytes.max() ?? 0, testLabelsFile.bytes.max() ?? 0)
        let names = classNames ?? (0..<max(2, Int(largest) + 1)).map(String.init)
        let train = try dataset(images: trainImagesFile, labels: trainLabelsFile, classNames: names, limit: limit)
        let test = try dataset(images: testImagesFile, labels: testLabelsFile, classNames: names, limit: limit)
        return (train, test)
    }

    /// `folder/name.gz`, else `folder/name`.
    static func read(_ folder: String, _ name: String, magic: UInt32, package: String?) throws -> IDXFile {
        let base = (folder as NSString).appendingPathComponent(name)
        let path =
            FileManager.default.fileExists(atPath: base + ".gz") || !FileManager.default.fileExists(atPath: base)
            ? base + ".gz" : base
        return try IDXFile(path: path, magic: magic, package: package)
    }

    /// Images and labels of one split as a `Dataset`.
    static func dataset(images: IDXFile, labels: IDXFile, classNames: [String], limit: Int?) throws -> Dataset {
        guard images.count == labels.count else {
            throw IDXError.countMismatch(
                images: images.path, imageCount: images.count, labels: labels.path, labelCount: labels.count)
        }
        let n = min(images.count, limit ?? images.count)
        let f = images.itemSize
        let columns = images.dimensions[2]
        var features = [Float](repeating: 0, count: n * f)
        images.bytes.withUnsafeBufferPointer { pixels in
            features.withUnsafeMutableBufferPointer { out in
                for i in 0..<n * f { out[i] = Float(pixels[i]) / maxPixel }
            }
        }
        var classes = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let label = Int(labels.bytes[i])
            guard label < classNames.count else {
                throw IDXError.labelOutOfRange(
                    path: labels.path, offset: labels.dataOffset + i, label: label, classCount: classNames.count)
            }
            classes[i] = label
        }
        let names = (0..<f).map { "pixel_\($0 / columns)_\($0 % columns)" }
        return Dataset(
            features: features, featureCount: f, featureNames: names, targets: .classes(classes, names: classNames))
    }
}
