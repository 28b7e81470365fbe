import Foundation
import Testing

@testable import Evolution

/// `Packed` arrays in JSON (base64) and beside it (`PackedBytes`, as island checkpoints keep them).
struct PackedTests {
    struct Holder: Codable, Equatable {
        @Packed var values: [Float]
        var name = "x"
    }

    @Test func besideTheJSONRoundTripsBitForBit() throws {
        let holder = Holder(values: (0..<10_000).map { Float($0) * 0.37 - 1e-30 })
        let sink = PackedBytes()
        let encoder = JSONEncoder()
        encoder.userInfo[PackedBytes.userInfoKey] = sink
        let json = try encoder.encode(holder)
        #expect(json.count < 100, "the JSON holds a reference, not the values (\(json.count) bytes)")
        #expect(sink.data.count == 40_000)
        let decoder = JSONDecoder()
        decoder.userInfo[PackedBytes.userInfoKey] = PackedBytes(sink.data)
        #expect(try decoder.decode(Holder.self, from: json) == holder)
        // Without the side channel: base64 inside the JSON, the same values.
        #expect(try JSONDecoder().decode(Holder.self, from: JSONEncoder().encode(holder)) == holder)
    }

    @Test func aReferenceOutsideTheBytesIsAnError() throws {
        let decoder = JSONDecoder()
        decoder.userInfo[PackedBytes.userInfoKey] = PackedBytes(Data(count: 16))
        for reference in [
            #"{"offset":0,"count":5}"#, #"{"offset":12,"count":2}"#, #"{"offset":-4,"count":1}"#,
            #"{"offset":0,"count":-1}"#,
            #"{"offset":9223372036854775807,"count":1}"#,
        ] {
            #expect(throws: DecodingError.self, "\(reference)") {
                try decoder.decode(Holder.self, from: Data(#"{"values":\#(reference),"name":"x"}"#.utf8))
            }
        }
        let four = try decoder.decode(Holder.self, from: Data(#"{"values":{"offset":0,"count":4},"name":"x"}"#.utf8))
        #expect(four.values == [0, 0, 0, 0])
    }
}
