import Foundation
import Networks
import Testing

@testable import Tasks

/// Whether `python3` with numpy can be run (the example evaluator needs both).
let pythonWithNumpy: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import numpy"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

let examplePath = packageRoot.appendingPathComponent("examples/external_evaluator.py").path

@Suite(.serialized) struct ExternalTaskTests {
    /// −MSE of the network's output against sin(πx) on 32 points of [−1, 1]: what the example computes.
    func expectedFitness(_ network: Network, _ genomes: [Float], count: Int) -> [Float] {
        let x = (0..<32).map { Float(-1 + 2 * Double($0) / 31) }
        let y = x.map { Double(Foundation.sin(Double.pi * Double($0))) }
        let out = network.forward(genomes: genomes, populationSize: count, inputs: x, batchSize: 32, sharedInputs: true)
        return (0..<count).map { p in
            Float(
                -(0..<32).map {
                    let d = Double(out[p * 32 + $0]) - y[$0]
                    return d * d
                }.reduce(0, +) / 32)
        }
    }

    @Test(
        .enabled(
            if: pythonWithNumpy,
            "python3 with numpy not found: the protocol test against examples/external_evaluator.py is skipped"))
    func exampleEvaluatorScoresLikeAtoll() throws {
        let task = ExternalTask(command: ["python3", examplePath], timeout: 30)
        for spec in [
            NetworkSpec.mlp([1, 8, 1], activation: .tanh), NetworkSpec.mlp([1, 5, 4, 1], activation: .sigmoid),
        ] {
            let network = try Network(spec: spec)
            for (generation, P) in [(0, 5), (1, 1), (2, 17)] {
                let genomes = population(network, size: P, seed: UInt64(generation + 1))
                let fitness = try task.evaluate(
                    genomes: genomes, populationSize: P, network: network, generation: generation, seed: 3)
                let expected = expectedFitness(network, genomes, count: P)
                for p in 0..<P {
                    #expect(abs(fitness[p] - expected[p]) <= 1e-5 * max(1, abs(expected[p])), "genome \(p)")
                }
            }
        }
    }

    @Test func headerLayout() throws {
        let network = try Network(spec: .mlp([2, 3, 1]))
        let header = ExternalTask.header(for: network)
        #expect(Array(header[0..<8]) == Array("ATOLLEV1".utf8))
        #expect(ExternalProtocol.readUInt32(header, at: 8) == 1)
        #expect(ExternalProtocol.readUInt32(header, at: 12) == UInt32(network.parameterCount))
        let specLength = Int(ExternalProtocol.readUInt32(header, at: 16))
        let spec = try JSONDecoder().decode(NetworkSpec.self, from: Data(header[20..<20 + specLength]))
        #expect(spec == network.spec)
        var offset = 20 + specLength
        #expect(ExternalProtocol.readUInt32(header, at: offset) == 4)  // 0.weight 0.bias 2.weight 2.bias
        offset += 4
        let nameLength = Int(ExternalProtocol.readUInt32(header, at: offset))
        #expect(String(decoding: header[offset + 4..<offset + 4 + nameLength], as: UTF8.self) == "0.weight")
        offset += 4 + nameLength
        #expect(ExternalProtocol.readUInt32(header, at: offset) == 2)
        #expect(
            ExternalProtocol.readUInt32(header, at: offset + 4) == 3
                && ExternalProtocol.readUInt32(header, at: offset + 8) == 2)
        #expect(ExternalProtocol.readUInt32(header, at: offset + 12) == 0)
    }

    /// A Python program that acknowledges the header, then misbehaves as told.
    func misbehaving(_ behaviour: String) -> [String] {
        let script = """
            import struct, sys, time
            i, o = sys.stdin.buffer, sys.stdout.buffer
            i.read(12); n = struct.unpack('<I', i.read(4))[0]; i.read(struct.unpack('<I', i.read(4))[0])
            for _ in range(struct.unpack('<I', i.read(4))[0]):
                i.read(struct.unpack('<I', i.read(4))[0]); r = struct.unpack('<I', i.read(4))[0]; i.read(4 * r + 4)
            o.write(b'ATOLLEV1' + struct.pack('<I', 1)); o.flush()
            count = struct.unpack('<I', i.read(4))[0]; i.read(12 + 4 * count * n)
            b = '\(behaviour)'
            if b == 'crash': sys.exit(3)
            if b == 'hang': time.sleep(60)
            o.write(struct.pack('<I', count - 1) + b'\\0' * 4 * (count - 1)); o.flush(); time.sleep(5)
            """
        return ["python3", "-c", script]
    }

    func evaluate(_ task: ExternalTask) throws {
        let network = try Network(spec: .mlp([2, 2]))
        _ = try task.evaluate(
            genomes: population(network, size: 3), populationSize: 3, network: network, generation: 0, seed: 0)
    }

    @Test(.enabled(if: pythonWithNumpy, "python3 not found"))
    func crashIsReportedWithStatus() throws {
        let error = #expect(throws: ExternalEvaluatorError.self) {
            try evaluate(ExternalTask(command: misbehaving("crash"), timeout: 10))
        }
        #expect("\(error!)".contains("exited (status 3)"))
    }

    @Test(.enabled(if: pythonWithNumpy, "python3 not found"))
    func hangTimesOut() throws {
        let start = Date()
        let error = #expect(throws: ExternalEvaluatorError.self) {
            try evaluate(ExternalTask(command: misbehaving("hang"), timeout: 1.5))
        }
        #expect("\(error!)".contains("did not answer within 1.5 s"))
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test(.enabled(if: pythonWithNumpy, "python3 not found"))
    func wrongCountIsRejected() throws {
        let error = #expect(throws: ExternalEvaluatorError.self) {
            try evaluate(ExternalTask(command: misbehaving("count"), timeout: 10))
        }
        #expect("\(error!)".contains("sent 3 genomes but the reply holds 2"))
    }

    /// Whether process `pid` is gone or a zombie (killed, not yet reaped by its new parent).
    func isDead(_ pid: Int32) -> Bool {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return true }
        // `pid (comm) S …`: the state follows the last ')'.
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return true }
        return text[text.index(close, offsetBy: 2)] == "Z"
    }

    /// Runs `body` on another thread and waits at most `seconds`: a hang fails the test instead of stalling it.
    func withinDeadline(_ seconds: Double, _ body: @escaping @Sendable () -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            body()
            done.signal()
        }
        return done.wait(timeout: .now() + seconds) == .success
    }

    @Test(
        .enabled(if: pythonWithNumpy, "python3 not found"),
        arguments: ["exit", "hang"])
    func forkedChildHoldingStdoutDoesNotBlockTheDeadline(parent: String) throws {
        // The evaluator acknowledges, reads a batch, forks a child that keeps stdout open for
        // 60 s (and writes its PID to a file), and then exits or hangs itself.
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "atoll-grandchild-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: pidFile) }
        let script = misbehaving("fork").last!
            .replacingOccurrences(of: "import struct, sys, time", with: "import os, struct, sys, time")
            .replacingOccurrences(
                of: "b = 'fork'",
                with: """
                    b = 'fork'
                    if os.fork() == 0:
                        open('\(pidFile.path)', 'w').write(str(os.getpid())); time.sleep(60); os._exit(0)
                    time.sleep(0.3)
                    if '\(parent)' == 'hang': time.sleep(60)
                    sys.exit(0)
                    """)
        let result = Box()
        let start = Date()
        let finished = withinDeadline(20) { [self] in
            do {
                try evaluate(ExternalTask(command: ["python3", "-c", script], timeout: 1.5))
                result.set("no error")
            } catch {
                result.set("\(error)")
            }
        }
        #expect(finished, "evaluate returned within 20 s")
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(
            result.get().contains(parent == "exit" ? "exited (status 0)" : "did not answer within 1.5 s"),
            "\(result.get())")
        // The forked child went with the evaluator's process group.
        let child = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8)))
        let deadline = Date().addingTimeInterval(5)
        while !isDead(child) && Date() < deadline { usleep(50_000) }
        #expect(isDead(child), "the evaluator's child \(child) is still alive")
        if !isDead(child) { kill(child, SIGKILL) }
    }

    @Test func programThatNeverStartsOrSpeaksTextFails() throws {
        let missing = #expect(throws: ExternalEvaluatorError.self) {
            try evaluate(ExternalTask(command: ["atoll-no-such-program-xyz"], timeout: 5))
        }
        #expect("\(missing!)".contains("exited (status 127)"))
        let chatty = #expect(throws: ExternalEvaluatorError.self) {
            try evaluate(ExternalTask(command: ["sh", "-c", "echo hello there, world; sleep 5"], timeout: 5))
        }
        #expect("\(chatty!)".contains("expected the acknowledgement"))
        let silent = #expect(throws: ExternalEvaluatorError.self) {
            try evaluate(ExternalTask(command: ["sleep", "30"], timeout: 0.5))
        }
        #expect("\(silent!)".contains("did not answer within 0.5 s"))
    }
}

/// A string set on one thread and read on another.
final class Box: @unchecked Sendable {
    private var value = ""
    private let lock = NSLock()
    func set(_ text: String) {
        lock.lock()
        value = text
        lock.unlock()
    }
    func get() -> String {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
