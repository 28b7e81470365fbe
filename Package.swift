// swift-tools-version:6.0
import PackageDescription

/// `VectorKernels` holds hand-vectorised kernels written with Swift SIMD types; on x86-64 it is
/// compiled for Haswell (AVX2 + FMA, so `SIMD16<Float>.addProduct` is two `vfmadd231ps`), and its
/// callers check `DirectConvolution.isSupported` before calling it. It is optimised in debug
/// builds too: unoptimised SIMD code runs through generic witnesses, hundreds of times slower,
/// which would make debug runs of conv nets (scripts/test-mpi.sh) crawl. The rest of the package
/// keeps the default target and optimisation.
#if arch(x86_64)
    let vectorKernelSettings: [SwiftSetting] = [
        .unsafeFlags(["-target-cpu", "haswell"]), .unsafeFlags(["-O"], .when(configuration: .debug)),
    ]
#else
    let vectorKernelSettings: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
#endif

/// Atoll: neuroevolution in a learned latent space, island model over MPI.
///
/// Dependency arrows point downwards only, and each one is an `import` in that target (see
/// docs/architecture.md, "Modules"):
///
///     atoll        → Reports, IslandModel, MetaLearning, Evolution, Tasks, Networks, Kernels, Collectives,
///                    CBLAS, ArgumentParser
///     Reports      → IslandModel, Collectives
///     IslandModel  → MetaLearning, Evolution, Tasks, Networks, Kernels, Collectives, CBLAS, Yams
///     MetaLearning → Tasks, Networks, Kernels, Yams
///     Tasks        → Networks, Kernels, CZlib
///     Networks     → VectorKernels, Kernels, CBLAS, Yams
///     VectorKernels (no dependencies)
///     Evolution    → Kernels, CBLAS
///     Collectives  → Kernels, CMPI
///     Kernels      → CBLAS
///
/// Each test target depends on the targets its files import; AtollCLITests depends on `atoll` so
/// that the executable it runs is built first.
let package = Package(
    name: "Atoll",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "atoll", targets: ["atoll"]),
        .library(
            name: "AtollKit",
            targets: [
                "Reports", "IslandModel", "MetaLearning", "Evolution", "Tasks", "Networks", "Kernels", "Collectives",
            ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: - C system libraries

        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // MARK: - Libraries

        .target(name: "Collectives", dependencies: ["Kernels", "CMPI"]),
        .target(name: "Kernels", dependencies: ["CBLAS"]),
        .target(name: "VectorKernels", swiftSettings: vectorKernelSettings),
        .target(name: "Networks", dependencies: ["VectorKernels", "Kernels", "CBLAS", "Yams"]),
        .target(name: "Tasks", dependencies: ["Networks", "Kernels", "CZlib"]),
        .target(name: "Evolution", dependencies: ["Kernels", "CBLAS"]),
        .target(name: "MetaLearning", dependencies: ["Tasks", "Networks", "Kernels", "Yams"]),
        .target(
            name: "IslandModel",
            dependencies: ["MetaLearning", "Evolution", "Tasks", "Networks", "Kernels", "Collectives", "CBLAS", "Yams"]
        ),
        .target(name: "Reports", dependencies: ["IslandModel", "Collectives"]),

        // MARK: - Command line

        .executableTarget(
            name: "atoll",
            dependencies: [
                "IslandModel", "Reports", "MetaLearning", "Evolution", "Tasks", "Networks", "Kernels", "Collectives",
                "CBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests

        .testTarget(name: "CollectivesTests", dependencies: ["Collectives", "Kernels"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "NetworksTests", dependencies: ["Networks", "VectorKernels", "Kernels"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "TasksTests", dependencies: ["Tasks", "Networks", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EvolutionTests", dependencies: ["Evolution", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MetaLearningTests", dependencies: ["MetaLearning", "Networks", "Tasks", "Kernels", "Collectives"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "IslandModelTests",
            dependencies: [
                "IslandModel", "Collectives", "Evolution", "Kernels", "Networks", "Tasks", "MetaLearning", "CBLAS",
            ]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "IslandModel", "Collectives"]),
        .testTarget(name: "AtollCLITests", dependencies: ["atoll"]),
    ],
    // Swift 5 mode: the numerical code shares flat buffers between threads deliberately
    // (llm.c style), which Swift 6's strict checking would force behind locks or copies.
    swiftLanguageModes: [.v5]
)
