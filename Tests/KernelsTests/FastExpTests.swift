import Foundation
import Kernels
import Testing

/// `fastExp`, `fastExpNonPositive` and `fastLog` against float64 libm.
@Suite struct FastExpTests {
    @Test func fastExpIsAccurate() {
        var worst = 0.0
        for i in 0...200_000 {
            let x = Float(-87 + 175 * Double(i) / 200_000)
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(fastExp(x)) - exact) / exact)
        }
        #expect(worst < 2e-7, "worst relative error \(worst)")
        #expect(fastExp(0) == 1)
        #expect(fastExp(.nan).isNaN)
        #expect(fastExp(-1000) < 1e-37)
    }

    @Test func fastExpNonPositiveIsFastExpOnItsDomain() {
        for i in 0...200_000 {
            let x = Float(-100 * Double(i) / 200_000)
            #expect(fastExpNonPositive(x).bitPattern == fastExp(x).bitPattern, "x = \(x)")
        }
        #expect(fastExpNonPositive(-.infinity) == fastExp(-87.3))
        #expect(fastExpNonPositive(.nan).isNaN)
    }

    @Test func fastLogIsAccurate() {
        var worst = 0.0
        for i in 0...200_000 {
            let x = Float(Foundation.exp(-80 + 170 * Double(i) / 200_000))
            let exact = Foundation.log(Double(x))
            worst = max(worst, abs(Double(fastLog(x)) - exact) / max(abs(exact), 1))
        }
        #expect(worst < 3e-7, "worst error \(worst)")
        #expect(fastLog(1) == 0)
    }
}
