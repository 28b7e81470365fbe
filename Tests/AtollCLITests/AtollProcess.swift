import Foundation

/// Runs the `atoll` executable that `swift build` put beside the test bundle.
enum AtollProcess {
    struct Output {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    /// The built `atoll`: `$ATOLL_BINARY`, else the `atoll` in the test bundle's build folder.
    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["ATOLL_BINARY"] {
            return URL(fileURLWithPath: path)
        }
        var folder = Bundle.main.bundleURL
        if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
        let beside = folder.appendingPathComponent("atoll")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        // Fallback: the package's debug build folder, found from this source file.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/atoll")
    }

    /// Runs `atoll arguments…` to completion and captures both streams; a process still running
    /// after `seconds` is killed (SIGKILL) and reported with status −9.
    static func run(_ arguments: [String], killAfter seconds: Double) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: killed ? -9 : process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }

    /// Runs `atoll arguments…` to completion and captures both streams.
    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }
}
