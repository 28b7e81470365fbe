import Foundation
import MetaLearning
import Testing

@Suite struct MetaLearnerConfigTests {
    @Test func missingKeysTakeDefaultsAndValuesRoundTrip() throws {
        let partial = try JSONDecoder().decode(MetaLearnerConfig.self, from: Data(#"{"width": 32, "latents": 4}"#.utf8))
        var expected = MetaLearnerConfig()
        expected.width = 32
        expected.latents = 4
        #expect(partial == expected)
        let again = try JSONDecoder().decode(MetaLearnerConfig.self, from: JSONEncoder().encode(partial))
        #expect(again == partial)
        #expect(expected.latentSize == 4 * 16)
        #expect(expected.fourierWidth == 5 * 13)
    }

    @Test func unknownKeysAndBadSizesNameTheField() {
        #expect(throws: MetaLearnerConfigError.self) {
            try JSONDecoder().decode(MetaLearnerConfig.self, from: Data(#"{"widht": 32}"#.utf8))
        }
        do {
            _ = try JSONDecoder().decode(MetaLearnerConfig.self, from: Data(#"{"width": 30, "heads": 4}"#.utf8))
            Issue.record("a width that is not a multiple of heads was accepted")
        } catch let error as MetaLearnerConfigError {
            #expect(error.field == "heads")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        var config = MetaLearnerConfig()
        config.latents = 0
        #expect(throws: MetaLearnerConfigError(field: "latents", message: "expected a positive integer, got 0")) {
            try config.validate()
        }
    }
}
