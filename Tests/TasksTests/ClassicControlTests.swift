import Foundation
import Kernels
import Testing

@testable import Tasks

/// Gymnasium trajectories recorded by scripts/fixtures/gymnasium_trajectories.py.
struct GymnasiumFixture: Decodable {
    struct Step: Decodable {
        var state: [Double]
        var observation: [Double]
        var reward: Double
        var terminated: Bool
        var truncated: Bool
    }
    struct Episode: Decodable {
        var start_state: [Double]
        var actions: [Double]
        var steps: [Step]
    }
    var episodes: [String: [Episode]]

    static func load() throws -> GymnasiumFixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/gymnasium_trajectories", withExtension: "json"))
        return try JSONDecoder().decode(GymnasiumFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct ClassicControlTests {
    /// Replays every recorded episode: same states to 1e-5 (relative to max(1, |x|)), same
    /// observations, rewards, termination and time-limit truncation.
    @Test(arguments: ["CartPole-v1", "Acrobot-v1", "MountainCarContinuous-v0", "Pendulum-v1"])
    func matchesGymnasium(id: String) throws {
        let fixture = try GymnasiumFixture.load()
        let env = try #require(ClassicControl.environment(named: id))
        let episodes = try #require(fixture.episodes[id])
        #expect(episodes.count >= 3)
        var worstError = 0.0
        for episode in episodes {
            var state = episode.start_state
            var observation = [Float](repeating: 0, count: env.observationSize)
            for (t, expected) in episode.steps.enumerated() {
                let action: ControlAction
                switch env.actionSpace {
                case .discrete: action = .discrete(Int(episode.actions[t]))
                case .continuous: action = .continuous(Float(episode.actions[t]))
                }
                let result = state.withUnsafeMutableBufferPointer {
                    env.step($0.baseAddress!, action: action, stepIndex: t)
                }
                for i in 0..<env.stateSize {
                    worstError = max(worstError, abs(state[i] - expected.state[i]) / max(1, abs(expected.state[i])))
                }
                state.withUnsafeBufferPointer { env.observe($0.baseAddress!, into: &observation) }
                for i in 0..<env.observationSize {
                    #expect(
                        abs(Double(observation[i]) - expected.observation[i]) <= 1e-5
                            * max(1, abs(expected.observation[i])), "\(id) step \(t) observation \(i)")
                }
                #expect(
                    abs(result.reward - expected.reward) <= 1e-5 * max(1, abs(expected.reward)),
                    "\(id) step \(t) reward")
                #expect(result.terminated == expected.terminated, "\(id) step \(t) terminated")
                let truncated = !result.terminated && t + 1 == env.maxEpisodeSteps
                #expect(truncated == expected.truncated, "\(id) step \(t) truncated")
            }
        }
        #expect(worstError <= 1e-5, "\(id): worst state error \(worstError)")
    }

    /// Start states lie in Gymnasium's reset ranges and differ between draws.
    @Test func startStatesFollowGymnasiumRanges() {
        let ranges: [String: [(Double, Double)]] = [
            "CartPole-v1": Array(repeating: (-0.05, 0.05), count: 4),
            "Acrobot-v1": Array(repeating: (-0.1, 0.1), count: 4),
            "MountainCarContinuous-v0": [(-0.6, -0.4), (0, 0)],
            "Pendulum-v1": [(-Double.pi, Double.pi), (-1, 1)],
        ]
        for env in ClassicControl.environments {
            var stream = RandomStream(seed: 7, purpose: "test")
            var first = [Double](repeating: 0, count: env.stateSize)
            var state = first
            first.withUnsafeMutableBufferPointer { env.reset($0.baseAddress!, stream: &stream) }
            state.withUnsafeMutableBufferPointer { env.reset($0.baseAddress!, stream: &stream) }
            #expect(first != state, "\(env.id) draws differ")
            for (i, (low, high)) in ranges[env.id]!.enumerated() {
                #expect(state[i] >= low && state[i] <= high, "\(env.id) state[\(i)] = \(state[i])")
            }
        }
    }

    @Test func actionMapping() {
        let discrete = ActionSpace.discrete(3)
        #expect(discrete.action(from: [0.1, 0.7, 0.7]) == .discrete(1))
        #expect(discrete.action(from: [Float.nan, -1, 0]) == .discrete(2))
        let box = ActionSpace.continuous(low: -2, high: 2)
        #expect(box.action(from: [5]) == .continuous(2))
        #expect(box.action(from: [-0.5]) == .continuous(-0.5))
        #expect(box.action(from: [Float.nan]) == .continuous(0))
    }

    @Test func pendulumAngleNormalizationIsFlooredModulo() {
        #expect(abs(Pendulum.normalizeAngle(3 * Double.pi / 2) - (-Double.pi / 2)) < 1e-12)
        #expect(abs(Pendulum.normalizeAngle(-3 * Double.pi / 2) - (Double.pi / 2)) < 1e-12)
        #expect(abs(Pendulum.normalizeAngle(0.25) - 0.25) < 1e-15)
    }
}
