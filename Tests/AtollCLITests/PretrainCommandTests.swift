import Foundation
import Testing

/// `atoll zoo` → `atoll pretrain` → `atoll run` with the pre-trained meta-learner, end to end at
/// tiny sizes.
@Suite("atoll pretrain")
struct PretrainCommandTests {
    @Test("a tiny zoo pre-trains a meta-learner whose report covers each size, and a run starts from it")
    func zooPretrainRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "atoll-pretrain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let zoo = folder.appendingPathComponent("zoo").path
        let zooRun = try AtollProcess.run([
            "zoo", "--task", "digits", "--network", "mlp:64-8-10", "--network", "mlp:64-12-10", "--count", "4",
            "--steps", "30", "--save-at", "15,30", "--out", zoo,
        ])
        #expect(zooRun.status == 0, "\(zooRun.standardError)")

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = root.appendingPathComponent("configs/meta-small.yaml").path
        let model = folder.appendingPathComponent("meta").path
        let pretrain = try AtollProcess.run([
            "pretrain", "--zoo", zoo, "--out", model, "--config", config, "--steps", "4", "--held-out", "0.25",
        ])
        #expect(pretrain.status == 0, "\(pretrain.standardError)")
        for suffix in [".safetensors", ".json", ".report.json"] {
            #expect(FileManager.default.fileExists(atPath: model + suffix), "\(suffix)")
        }
        let report = try String(contentsOfFile: model + ".report.json", encoding: .utf8)
        #expect(report.contains("mlp:64-8-10") && report.contains("mlp:64-12-10"), "one report per network size")
        #expect(report.contains("accuracy_retention"))

        // A run on another network size starts from the pre-trained meta-learner (no warm-up).
        let runConfig = folder.appendingPathComponent("run.yaml")
        try """
        network: mlp:64-6-10
        islands: {count: 2, population: 6}
        latent: {enabled: true, retention_threshold: 0.01}
        meta:
          pretrained: \(model).safetensors
          architecture: {tokenValues: 32, width: 32, heads: 2, mlpRatio: 2, tokenMlpRatio: 2, encoderTokenLayers: 1, window: 16,
                         encoderLatentLayers: 1, decoderLatentLayers: 1, latents: 8, latentWidth: 16, fourierFrequencies: 6, fitnessHidden: 16}
          train_every: 2
          steps: 1
          batch: 4
          archive_size: 8
          probe_count: 8
        stop: {generations: 2}
        """.write(to: runConfig, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        let run = try AtollProcess.run(["run", runConfig.path, "--out", out])
        #expect(run.status == 0, "\(run.standardError)")
        let meta = try String(contentsOfFile: out + "/meta.jsonl", encoding: .utf8)
        #expect(meta.contains("\"generation\":2") && meta.contains("\"phase\":\"latent\""))
    }
}
