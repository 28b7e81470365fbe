import Foundation
import Testing

/// Whether `python3` with numpy can be run (python/atoll_evaluator.py needs both).
private let pythonWithNumpy: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import numpy"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

/// Real `atoll run`s whose fitness is a Python function served by python/atoll_evaluator.py.
@Suite("python/atoll_evaluator.py", .serialized, .enabled(if: pythonWithNumpy, "python3 with numpy not found"))
struct PythonEvaluatorTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A temporary folder with `script` as `fitness.py` (importing atoll_evaluator from python/)
    /// and a config running it on a 1-16-1 network.
    static func setUp(script: String, generations: Int = 4) throws -> (folder: URL, config: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-python-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let header =
            "import sys\nsys.path.insert(0, \(pythonString(root.appendingPathComponent("python").path)))\nfrom atoll_evaluator import serve\nimport numpy as np\n"
        try Data((header + script).utf8).write(to: folder.appendingPathComponent("fitness.py"))
        let config = """
            seed: 2
            task: {name: "external:python3 \(folder.appendingPathComponent("fitness.py").path)"}
            network: mlp:1-16-1:tanh
            islands: {count: 2, population: 8}
            migration: {interval: 2, count: 1}
            stop: {generations: \(generations)}
            output: {checkpoint_every: 2}
            """
        let url = folder.appendingPathComponent("run.yaml")
        try Data(config.utf8).write(to: url)
        return (folder, url)
    }

    static func pythonString(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// The float32 values of `name` in a safetensors file.
    static func tensor(_ name: String, in url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + headerLength)) as! [String: Any]
        let entry = header[name] as! [String: Any]
        let offsets = (entry["data_offsets"] as! [NSNumber]).map(\.intValue)
        let bytes = data.subdata(in: 8 + headerLength + offsets[0]..<8 + headerLength + offsets[1])
        return bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 4).map {
                Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian)
            }
        }
    }

    @Test("a run scored by a Python function gets PyTorch names and shapes; print() does not break the protocol")
    func namesAndShapes() throws {
        // Fitness reads one weight and one bias by name; the best network's values must give it back.
        let script = """
            def fitness(params, info):
                assert sorted(params) == ["0.bias", "0.weight", "2.bias", "2.weight"], sorted(params)
                assert params["0.weight"].shape == (16, 1) and params["2.weight"].shape == (1, 16), params["0.weight"].shape
                assert params["0.weight"].dtype == np.float32 and params["2.bias"].shape == (1,)
                assert 0 <= info.index < info.count and info.network.parameter_count == 49
                print("scored", info.generation, info.index)
                return float(params["0.weight"][3, 0]) + 10 * float(params["2.bias"][0])

            serve(fitness)
            """
        let (folder, config) = try Self.setUp(script: script)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = folder.appendingPathComponent("run")
        let result = try AtollProcess.run(["run", config.path, "--out", run.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("scored 4"), "the function's print went to stderr")
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json")))
            as! [String: Any]
        let best = (summary["bestFitness"] as! NSNumber).floatValue
        let weight = try Self.tensor("0.weight", in: run.appendingPathComponent("best.safetensors"))
        let bias = try Self.tensor("2.bias", in: run.appendingPathComponent("best.safetensors"))
        #expect(abs(best - (weight[3] + 10 * bias[0])) <= 1e-5 * max(1, abs(best)))
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("report.html").path))
    }

    @Test("batch=True scores a whole batch in one call, with arrays of shape [P, *shape]")
    func batchMode() throws {
        let script = """
            def fitness(params, info):
                assert info.index is None and params["0.weight"].shape == (info.count, 16, 1), params["0.weight"].shape
                return -np.sum(params["2.weight"].astype(np.float64) ** 2, axis=(1, 2))

            serve(fitness, batch=True)
            """
        let (folder, config) = try Self.setUp(script: script)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = folder.appendingPathComponent("run")
        let result = try AtollProcess.run(["run", config.path, "--out", run.path])
        #expect(result.status == 0, "\(result.standardError)")
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json")))
            as! [String: Any]
        let best = (summary["bestFitness"] as! NSNumber).doubleValue
        let weight = try Self.tensor("2.weight", in: run.appendingPathComponent("best.safetensors"))
        let expected = -weight.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(best - expected) <= 1e-5 * max(1, abs(expected)))
    }

    @Test("examples/numpy_fitness.py improves the fit of sin(pi x) in a short run")
    func numpyExample() throws {
        let (folder, _) = try Self.setUp(script: "")
        defer { try? FileManager.default.removeItem(at: folder) }
        let example = Self.root.appendingPathComponent("examples/numpy_fitness.py").path
        let config = """
            seed: 1
            task: {name: "external:python3 \(example)"}
            network: mlp:1-16-1:tanh
            islands: {count: 2, population: 16}
            evolution: {mutation_sigma: 0.1, mutation_rate: 0.2, elites: 2}
            stop: {generations: 15}
            """
        try Data(config.utf8).write(to: folder.appendingPathComponent("sin.yaml"))
        let run = folder.appendingPathComponent("run")
        let result = try AtollProcess.run(["run", folder.appendingPathComponent("sin.yaml").path, "--out", run.path])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(
            separator: "\n")
        let bestEver = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .map { ($0["generation"] as! Int, ($0["best_ever"] as! NSNumber).doubleValue) }
        let first = bestEver.filter { $0.0 == 0 }.map(\.1).max()!
        let last = bestEver.filter { $0.0 == 15 }.map(\.1).max()!
        #expect(first < 0 && last > first, "-MSE rises from \(first) to \(last)")
    }

    @Test("an exception in the fitness function stops the run with the Python traceback in Atoll's output")
    func traceback() throws {
        let script = """
            def fitness(params, info):
                if info.generation == 2:
                    return 1 / 0
                return 0.0

            serve(fitness)
            """
        let (folder, config) = try Self.setUp(script: script)
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try AtollProcess.run(["run", config.path, "--out", folder.appendingPathComponent("run").path])
        #expect(result.status != 0)
        let output = result.standardError
        #expect(output.contains("Traceback (most recent call last)"), "\(output)")
        #expect(output.contains("ZeroDivisionError: division by zero"))
        // 7 of 8 genomes are new in each generation (one elite is kept with its fitness).
        #expect(output.contains("the fitness function raised an exception on genome 0 of 7 (generation 2)"))
        #expect(output.contains("line 7, in fitness") && output.contains("return 1 / 0"), "the user's frame is shown")
        #expect(
            output.contains("exited (status 1) while scoring a batch of 7 genomes (generation 2)"),
            "Atoll's own error names the batch")
    }
}
