import Foundation

/// Finds the data files Atoll ships (`data/digits.csv.gz`).
///
/// Search order, first hit wins:
/// 1. an explicit path (`--data PATH`): the file itself, or a folder holding it;
/// 2. the folder named by the environment variable `ATOLL_DATA`;
/// 3. `data/` in the executable's folder or any of its four parents — this finds the package's
///    `data/` from `.build/<triple>/<config>/atoll` and `PREFIX/data` from `PREFIX/bin/atoll`;
/// 4. `PREFIX/share/atoll/data` for an executable in `PREFIX/bin`;
/// 5. `data/` in the current directory.
public enum DataDirectory {
    /// The path of the data file called `name`.
    ///
    /// - Parameter explicit: a path given by the user (a file or a folder); when set, only it is
    ///   tried, so a typo is reported instead of silently falling back.
    /// - Throws: `DatasetError.fileNotFound`, listing every place searched.
    public static func locate(_ name: String, explicit: String? = nil) throws -> String {
        let fm = FileManager.default
        if let explicit {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: explicit, isDirectory: &isDirectory) {
                if !isDirectory.boolValue { return explicit }
                let inside = (explicit as NSString).appendingPathComponent(name)
                if fm.fileExists(atPath: inside) { return inside }
            }
            throw DatasetError.fileNotFound(path: name, searched: [explicit])
        }
        let candidates = searchFolders().map { ($0 as NSString).appendingPathComponent(name) }
        if let found = candidates.first(where: { fm.fileExists(atPath: $0) }) { return found }
        throw DatasetError.fileNotFound(path: name, searched: candidates)
    }

    /// The folders searched, in order (without an explicit path).
    public static func searchFolders() -> [String] {
        var folders: [String] = []
        if let env = ProcessInfo.processInfo.environment["ATOLL_DATA"], !env.isEmpty { folders.append(env) }
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            var folder = executable.deletingLastPathComponent()
            for _ in 0..<5 {
                folders.append(folder.appendingPathComponent("data").path)
                folder = folder.deletingLastPathComponent()
            }
            folders.append(
                executable.deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent("share/atoll/data").path)
        }
        folders.append((fm.currentDirectoryPath as NSString).appendingPathComponent("data"))
        return folders
    }

    private static var fm: FileManager { .default }
}
