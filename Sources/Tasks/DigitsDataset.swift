/// The UCI optical-recognition-of-handwritten-digits test set as shipped by scikit-learn
/// (`load_digits`): 1,797 images of 8×8 pixels with values 0–16, labels 0–9.
///
/// Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine
/// Learning Repository (1998), https://doi.org/10.24432/C50P49, CC BY 4.0. Stored in
/// `data/digits.csv.gz`: no header, 64 pixel columns then the label.
public enum DigitsDataset {
    /// The file name searched for by `DataDirectory`.
    public static let fileName = "digits.csv.gz"
    /// Number of images in the file.
    public static let sampleCount = 1797
    /// Pixels per image (8 × 8).
    public static let pixelCount = 64
    /// Largest pixel value; features are `pixel / 16`, in `[0, 1]`.
    public static let maxPixel: Float = 16

    /// The whole dataset with pixels scaled to `[0, 1]`.
    ///
    /// - Parameter data: an explicit file or folder (`--data`); otherwise `DataDirectory` searches.
    /// - Throws: `DatasetError` if the file is missing or malformed.
    public static func load(data: String? = nil) throws -> Dataset {
        let path = try DataDirectory.locate(fileName, explicit: data)
        let table = try CSVTable(contentsOf: path, hasHeader: false)
        guard table.header.count == pixelCount + 1 else {
            throw DatasetError.wrongFieldCount(path: path, line: 1, expected: pixelCount + 1, found: table.header.count)
        }
        var dataset = try CSVDataset.make(from: table, target: nil, kind: .classification)
        for i in dataset.features.indices { dataset.features[i] /= maxPixel }
        return Dataset(
            features: dataset.features, featureCount: pixelCount,
            featureNames: (0..<pixelCount).map { "pixel_\($0 / 8)_\($0 % 8)" }, targets: dataset.targets)
    }
}
