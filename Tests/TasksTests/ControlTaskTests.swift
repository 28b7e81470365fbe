import Foundation
import Kernels
import Networks
import Testing

@testable import Tasks

@Suite struct ControlTaskTests {
    /// One genome's episodes stepped one at a time, the reference for the lock-step evaluation.
    func sequentialReturns(_ task: ControlTask, genome: [Float], network: Network, generation: Int, seed: UInt64)
        -> [Double]
    {
        let env = task.environment
        let start = task.startStates(generation: generation, seed: seed)
        var returns: [Double] = []
        for e in 0..<task.episodes {
            var state = Array(start[e * env.stateSize..<(e + 1) * env.stateSize])
            var observation = [Float](repeating: 0, count: env.observationSize)
            var total = 0.0
            for t in 0..<env.maxEpisodeSteps {
                state.withUnsafeBufferPointer { env.observe($0.baseAddress!, into: &observation) }
                let output = network.forward(
                    genomes: genome, populationSize: 1, inputs: observation, batchSize: 1, sharedInputs: true)
                let action = output.withUnsafeBufferPointer { env.actionSpace.action(from: $0.baseAddress!) }
                let result = state.withUnsafeMutableBufferPointer {
                    env.step($0.baseAddress!, action: action, stepIndex: t)
                }
                total += result.reward
                if result.terminated { break }
            }
            returns.append(total)
        }
        return returns
    }

    @Test(arguments: ["CartPole-v1", "Acrobot-v1", "MountainCarContinuous-v0", "Pendulum-v1"])
    func lockStepEqualsSequentialEpisodes(id: String) throws {
        let env = try #require(ClassicControl.environment(named: id))
        let task = ControlTask(environment: env, episodes: 2)
        let network = try Network(spec: .mlp([env.observationSize, 6, env.actionSpace.outputSize], activation: .tanh))
        let P = 4
        var genomes = population(network, size: P, seed: 21)
        if id == "CartPole-v1" {
            // A hand-made balancing policy (push towards the lean) survives much longer than the
            // random ones, so genomes drop out of the lock-step at different times.
            let n = network.parameterCount
            var policy = [Float](repeating: 0, count: n)
            let l = network.layout
            let w0 = l.tensor(named: "0.weight")!.offset
            let w2 = l.tensor(named: "2.weight")!.offset
            policy[w0 + 2] = 5
            policy[w0 + 3] = 2
            policy[w0 + 1] = 0.2  // hidden 0 ≈ tanh(5θ + 2θ̇ + 0.2ẋ)
            policy[w2 + 6] = 1
            policy[w2 + 0] = -1  // output 1 − output 0 = 2·hidden 0
            genomes.replaceSubrange(0..<n, with: policy)
        }
        let fitness = try task.evaluate(genomes: genomes, populationSize: P, network: network, generation: 3, seed: 42)
        let n = network.parameterCount
        var means: [Double] = []
        for p in 0..<P {
            let returns = sequentialReturns(
                task, genome: Array(genomes[p * n..<(p + 1) * n]), network: network, generation: 3, seed: 42)
            let mean = returns.reduce(0, +) / Double(returns.count)
            means.append(mean)
            #expect(abs(Double(fitness[p]) - mean) <= 1e-4 * max(1, abs(mean)), "\(id) genome \(p)")
        }
        if id == "CartPole-v1" {
            #expect(means[0] > means[1...].max()!, "the balancing policy lasts longest: \(means)")
        }
    }

    @Test func everyGenomeFacesTheSameStartStatesWithinAGeneration() throws {
        let task = ControlTask(environment: Pendulum(), episodes: 3)
        let network = try Network(spec: .mlp([3, 4, 1]))
        let genomes = population(network, size: 2, seed: 5)
        let n = network.parameterCount
        // The same genome twice, and in the other order: identical fitness per genome.
        let twice = Array(genomes[0..<n]) + Array(genomes[0..<n])
        let f = try task.evaluate(genomes: twice, populationSize: 2, network: network, generation: 1, seed: 8)
        #expect(f[0] == f[1])
        let swapped = Array(genomes[n..<2 * n]) + Array(genomes[0..<n])
        let a = try task.evaluate(genomes: genomes, populationSize: 2, network: network, generation: 1, seed: 8)
        let b = try task.evaluate(genomes: swapped, populationSize: 2, network: network, generation: 1, seed: 8)
        #expect(a == [b[1], b[0]])
        // Start states change with the generation and the seed, not with anything else.
        #expect(task.startStates(generation: 1, seed: 8) == task.startStates(generation: 1, seed: 8))
        #expect(task.startStates(generation: 1, seed: 8) != task.startStates(generation: 2, seed: 8))
        #expect(task.startStates(generation: 1, seed: 8) != task.startStates(generation: 1, seed: 9))
    }

    @Test func reportListsEpisodes() throws {
        let task = ControlTask(environment: CartPole(), episodes: 3)
        let network = try Network(spec: .mlp([4, 2]))
        let genome = population(network, size: 1)
        let report = try task.report(genome: genome, network: network, generation: 0, seed: 1)
        let episodes = try #require(report.episodes)
        #expect(episodes.returns.count == 3 && episodes.lengths.count == 3)
        // CartPole gives 1 per step, so a return equals the episode's length.
        #expect(episodes.returns == episodes.lengths.map(Double.init))
        #expect(abs(report.fitness - episodes.meanReturn) < 1e-6)
    }

    @Test func probeInputsAreRecordedObservations() throws {
        let task = ControlTask(environment: Acrobot())
        let probe = try #require(task.probeInputs(count: 40, seed: 2))
        #expect(probe.count == 40 * 6)
        #expect(task.probeInputs(count: 40, seed: 2) == probe)
        for i in 0..<40 {
            let (c, s) = (Double(probe[i * 6]), Double(probe[i * 6 + 1]))
            #expect(abs(c * c + s * s - 1) < 1e-5)  // cos² + sin² of a real angle
        }
        #expect(Set(probe.map(\.bitPattern)).count > 100)
    }
}
