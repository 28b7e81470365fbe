// swift-tools-version:5.4
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM links every executable with
// `--defsym main=<module>_main` (testable executables), which fails for a libFuzzer target: its
// `main` is libFuzzer's and the Swift module has no entry point (`-parse-as-library`).
import PackageDescription

/// libFuzzer targets for Atoll's file readers, one executable per reader, each exposing
/// `LLVMFuzzerTestOneInput`. A package of its own, so the main one carries nothing extra; built
/// and run by `scripts/fuzz.sh` (see the README, "Fuzzing").
let atoll = Target.Dependency.product(name: "AtollKit", package: "Atoll")

let package = Package(
    name: "AtollFuzz",
    dependencies: [.package(name: "Atoll", path: "..")],
    targets: [
        .executableTarget(name: "FuzzSafeTensors", dependencies: [atoll]),
        .executableTarget(name: "FuzzNpy", dependencies: [atoll]),
        .executableTarget(name: "FuzzIDX", dependencies: [atoll]),
        .executableTarget(name: "FuzzCSV", dependencies: [atoll]),
        .executableTarget(name: "FuzzCheckpoint", dependencies: [atoll]),
        .executableTarget(name: "FuzzRunConfig", dependencies: [atoll]),
    ]
)
