import Foundation
import Networks

/// A plain float64 forward pass, one sample at a time with direct loops (no BLAS, no im2col):
/// the independent reference for Network's forward and for finite-difference gradients.
struct ReferenceNetwork {
    let spec: NetworkSpec
    let layout: ParameterLayout
    let shapes: [[Int]]

    init(spec: NetworkSpec) throws {
        self.spec = spec
        layout = try ParameterLayout(spec: spec)
        shapes = try spec.shapes()
    }

    func forward(genome: [Double], sample: [Double]) -> [Double] {
        var x = sample
        for (index, layer) in spec.layers.enumerated() {
            let weight = layout.tensor(named: "\(index).weight")
            let bias = layout.tensor(named: "\(index).bias")
            switch layer {
            case .linear(let out, _):
                let inFeatures = x.count
                x = (0..<out).map { o in
                    var sum = bias.map { genome[$0.offset + o] } ?? 0
                    for i in 0..<inFeatures { sum += genome[weight!.offset + o * inFeatures + i] * x[i] }
                    return sum
                }
            case .conv2d(let outChannels, let k, let stride, let pad):
                let (c, h, w) = (shapes[index][0], shapes[index][1], shapes[index][2])
                let (oh, ow) = (shapes[index + 1][1], shapes[index + 1][2])
                var y = [Double](repeating: 0, count: outChannels * oh * ow)
                for o in 0..<outChannels {
                    for r in 0..<oh {
                        for q in 0..<ow {
                            var sum = genome[bias!.offset + o]
                            for ci in 0..<c {
                                for i in 0..<k {
                                    for j in 0..<k {
                                        let (row, col) = (r * stride - pad + i, q * stride - pad + j)
                                        guard row >= 0, row < h, col >= 0, col < w else { continue }
                                        sum +=
                                            genome[weight!.offset + ((o * c + ci) * k + i) * k + j]
                                            * x[(ci * h + row) * w + col]
                                    }
                                }
                            }
                            y[(o * oh + r) * ow + q] = sum
                        }
                    }
                }
                x = y
            case .maxPool2d(let k, let stride):
                let (c, h, w) = (shapes[index][0], shapes[index][1], shapes[index][2])
                let (oh, ow) = (shapes[index + 1][1], shapes[index + 1][2])
                var y = [Double](repeating: -.infinity, count: c * oh * ow)
                for ci in 0..<c {
                    for r in 0..<oh {
                        for q in 0..<ow {
                            for i in 0..<k {
                                for j in 0..<k {
                                    y[(ci * oh + r) * ow + q] = max(
                                        y[(ci * oh + r) * ow + q], x[(ci * h + r * stride + i) * w + q * stride + j])
                                }
                            }
                        }
                    }
                }
                x = y
            case .flatten:
                break
            case .activation(let activation):
                switch activation {
                case .relu: x = x.map { max($0, 0) }
                case .tanh: x = x.map { Foundation.tanh($0) }
                case .sigmoid: x = x.map { 1 / (1 + Foundation.exp(-$0)) }
                case .gelu: x = x.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }
                case .softmax:
                    let m = x.max()!
                    let e = x.map { Foundation.exp($0 - m) }
                    let s = e.reduce(0, +)
                    x = e.map { $0 / s }
                case .logSoftmax:
                    let m = x.max()!
                    let l = Foundation.log(x.map { Foundation.exp($0 - m) }.reduce(0, +))
                    x = x.map { $0 - m - l }
                }
            }
        }
        return x
    }
}
