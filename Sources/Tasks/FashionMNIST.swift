/// Fashion-MNIST: 70,000 grey 28×28 images of clothing in 10 classes, split as published into
/// 60,000 training and 10,000 test images.
///
/// Source: H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
/// Machine Learning Algorithms", arXiv:1708.07747 (2017), MIT licence. Read from the Debian
/// package `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`, four gzipped IDX files)
/// or any folder of the same files; pixels are scaled to `pixel / 255` (see `IDXDataset`).
public enum FashionMNIST {
    /// The Debian package that ships the files.
    public static let package = "dataset-fashion-mnist"
    /// Where the package puts them.
    public static let defaultFolder = "/usr/share/datasets/fashion-mnist"
    /// The published class names, in label order.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    /// Images per split as published.
    public static let trainCount = 60_000
    public static let testCount = 10_000
    /// Image height and width.
    public static let side = 28

    /// The published split.
    ///
    /// - Parameters:
    ///   - folder: a folder holding the four files; `nil` uses `defaultFolder`.
    ///   - limit: at most this many samples per split (tests).
    /// - Throws: `IDXError` (a missing file names the Debian package).
    public static func load(folder: String? = nil, limit: Int? = nil) throws -> (train: Dataset, test: Dataset) {
        let split = try IDXDataset.load(
            folder: folder ?? defaultFolder, classNames: classNames, package: package, limit: limit)
        if split.train.featureCount != side * side {
            throw IDXError.wrongShape(
                path: folder ?? defaultFolder, offset: 8, expected: [side * side], found: [split.train.featureCount])
        }
        return split
    }
}
