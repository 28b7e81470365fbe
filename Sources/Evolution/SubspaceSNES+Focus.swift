import Foundation
import Kernels

// λ = candidates, n = genes, N = neurons, c = neurons a focused candidate mutates.

/// Attention-guided focus: the meta-learner's encoder says, by its attention over a genome's
/// tokens, which neurons it weighs most; a focused candidate samples its full-space step on the
/// genes of `c` neurons only.
///
/// Each focused row draws its own `c` neurons without replacement with probabilities proportional
/// to the weights `a_i` (Gumbel top-k: the `c` largest `log a_i + G_i`, `G_i = −log(−log U_i)`,
/// `U_i` from the stream `(.focus, row)` of the generation's key), so the most-attended neurons are
/// mutated most often but every row differs.
extension SubspaceSNES {
    /// Whether row `r` of the last `ask` is focused.
    func hasFocus(row r: Int) -> Bool {
        let end = populationSize - decoderRows
        return focusDrawn && r >= end - focusRows && r < end && !(evaluatesCenter && r == 0)
    }

    /// `[N]` whether each neuron is among row `r`'s chosen ones.
    func focusMask(row r: Int) -> [Bool] {
        var chosen = [Bool](repeating: false, count: focusWeights.count)
        for i in 0..<focusNeurons { chosen[Int(focusChosen[r * focusNeurons + i])] = true }
        return chosen
    }

    /// Draws each focused row's neurons and resets its other genes to the mean (their `s` is 0),
    /// after the full-space sampling of `ask` and before the latent part is added.
    mutating func applyFocus(to population: inout Population, key: StreamKey) {
        focusDrawn = focusRows > 0 && !geneNeurons.isEmpty && basisGeneration != nil
        guard focusDrawn else { return }
        let n = dimension
        let N = focusWeights.count
        let c = focusNeurons
        let end = populationSize - decoderRows
        if focusChosen.count != populationSize * c { focusChosen = [Int32](repeating: 0, count: populationSize * c) }
        for r in end - focusRows..<end where !(evaluatesCenter && r == 0) {
            var random = key.stream(.focus, individual: r)
            var keys = [(key: Double, neuron: Int)]()
            keys.reserveCapacity(N)
            for i in 0..<N {
                let u = max(random.uniform(), 1e-300)
                keys.append((Foundation.log(Double(focusWeights[i])) - Foundation.log(-Foundation.log(u)), i))
            }
            keys.sort { $0.key != $1.key ? $0.key > $1.key : $0.neuron < $1.neuron }
            for i in 0..<c { focusChosen[r * c + i] = Int32(keys[i].neuron) }
            let chosen = focusMask(row: r)
            for j in 0..<n where !chosen[Int(geneNeurons[j])] { population.genes[r * n + j] = mean[j] }
        }
    }

    /// Turns focus on from the next `ask`: `weights` (`[N]`, each above 0) are the neurons'
    /// attention, `geneNeurons` (`[n]`) the neuron of each gene.
    public mutating func activateFocus(weights: [Float], geneNeurons: [Int32]) {
        precondition(
            focusRows > 0 && geneNeurons.count == dimension && weights.allSatisfy { $0 > 0 && $0.isFinite },
            "focus needs a positive weight per neuron and a neuron per gene")
        precondition(
            focusNeurons <= weights.count, "a focused candidate mutates \(focusNeurons) of \(weights.count) neurons")
        focusWeights = weights
        self.geneNeurons = geneNeurons
    }
}
