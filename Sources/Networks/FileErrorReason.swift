import Foundation

/// One line for a file system error: Foundation's errors on Linux print as
/// `Error Domain=NSCocoaErrorDomain Code=4 "…" UserInfo={…}`, which names neither the cause
/// plainly nor in one line.
public enum FileErrorReason {
    /// The cause of `error` in words: the POSIX reason underneath a Foundation file error
    /// (`no such file or directory`, `is a directory`, `permission denied`, …), else its
    /// description.
    public static func of(_ error: any Error) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey].flatMap({ $0 as? any Error }).map({ $0 as NSError }),
            underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code))).lowercased()
        }
        if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))).lowercased() }
        // NSFileWriteOutOfSpaceError without a POSIX error underneath.
        if error.domain == NSCocoaErrorDomain && error.code == 640 { return "no space left on device" }
        return error.domain == NSCocoaErrorDomain ? error.localizedDescription : "\(error)"
    }

    /// `error` as a one-line `path: reason` error when it is a Foundation file error naming a
    /// path; any other error as it is.
    public static func readable(_ error: any Error) -> any Error {
        let bridged = error as NSError
        guard bridged.domain == NSCocoaErrorDomain, let path = bridged.userInfo[NSFilePathErrorKey] as? String else {
            return error
        }
        return FileError(description: "\(path): \(of(error))")
    }

    /// A file system error in one line.
    public struct FileError: Error, CustomStringConvertible {
        public let description: String
    }
}
