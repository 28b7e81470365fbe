import Foundation
import Kernels
import Testing

@Suite struct OptimizerTests {
    struct AdamWFixture: Decodable {
        let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
        let initial: [Double], grads: [[Double]], learningRates: [Double]
        let parameters: [[Double]], firstMoments: [[Double]], secondMoments: [[Double]]
    }

    @Test func adamWMatchesNumpySteps() throws {
        let url = try #require(Bundle.module.url(forResource: "adamw", withExtension: "json", subdirectory: "Fixtures"))
        let f = try JSONDecoder().decode(AdamWFixture.self, from: Data(contentsOf: url))
        let N = f.initial.count
        let params = TestTensor(f.initial)
        let m = TestTensor(N)
        let v = TestTensor(N)
        let settings = AdamWSettings(beta1: f.beta1, beta2: f.beta2, epsilon: f.epsilon, weightDecay: f.weightDecay)
        for step in 1...f.grads.count {
            let grads = TestTensor(f.grads[step - 1])
            adamWUpdate(
                params.p, grads.p, m.p, v.p, N, learningRate: Float(f.learningRates[step - 1]),
                settings: settings, weightDecay: settings.weightDecay, step: step)
            #expect(worstError(params.values, f.parameters[step - 1], atol: 1e-6, rtol: 1e-5) <= 1, "step \(step)")
            #expect(worstError(m.values, f.firstMoments[step - 1], atol: 1e-7, rtol: 1e-5) <= 1, "step \(step)")
            #expect(worstError(v.values, f.secondMoments[step - 1], atol: 1e-7, rtol: 1e-5) <= 1, "step \(step)")
        }
    }

    @Test func clippingScalesToTheMaximumNormOnlyWhenAbove() {
        let grads = TestTensor([3, 4, 0] as [Float])
        #expect(gradientGlobalNorm(grads.p, 3) == 5)
        #expect(clipGradientsByGlobalNorm(grads.p, 3, maxNorm: 10) == 5)
        #expect(grads.values == [3, 4, 0])
        #expect(clipGradientsByGlobalNorm(grads.p, 3, maxNorm: 1) == 5)
        #expect(abs(gradientGlobalNorm(grads.p, 3) - 1) < 1e-5)
        #expect(abs(grads[0] / grads[1] - 0.75) < 1e-6)
    }

    @Test func scheduleWarmsUpLinearlyThenDecaysByCosine() {
        let schedule = LearningRateSchedule(maxRate: 1e-3, minRate: 1e-4, warmupSteps: 10, totalSteps: 110)
        #expect(abs(schedule.rate(at: 0) - 1e-4) < 1e-9)
        #expect(abs(schedule.rate(at: 4) - 5e-4) < 1e-9)
        #expect(abs(schedule.rate(at: 9) - 1e-3) < 1e-9)
        #expect(abs(schedule.rate(at: 10) - 1e-3) < 1e-9)
        #expect(abs(schedule.rate(at: 60) - 5.5e-4) < 1e-8)  // half-way: (max + min) / 2
        #expect(abs(schedule.rate(at: 110) - 1e-4) < 1e-9)
        #expect(abs(schedule.rate(at: 500) - 1e-4) < 1e-9)
        #expect(schedule.rate(at: 30) > schedule.rate(at: 31))
    }
}
