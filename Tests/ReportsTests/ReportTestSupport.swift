import Collectives
import Foundation
import IslandModel

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Runs to report on, and a reader of the report's SVG.
enum ReportTestSupport {
    static let tiny = """
        seed: 3
        network: mlp:64-6-10
        islands: {count: 4, population: 6}
        migration: {interval: 2, count: 1}
        evolution: {mutation_rate: 0.1}
        stop: {generations: 6}
        output: {checkpoint_every: 2}
        """

    /// `tiny` through the latent phase (as in the island model's run tests).
    static let tinyLatent =
        tiny + """

            latent: {enabled: true, warmup_generations: 2, retention_threshold: 0.3, weight_space_share: 0.34, mutation_sigma: 0.2}
            meta:
              architecture: {tokenValues: 16, width: 16, heads: 2, mlpRatio: 2, tokenMlpRatio: 1, encoderTokenLayers: 1, window: 8,
                             encoderLatentLayers: 1, decoderLatentLayers: 1, latents: 2, latentWidth: 4, fourierFrequencies: 2, fitnessHidden: 8}
              train_every: 2
              steps: 2
              batch: 4
              archive_size: 16
              probe_count: 16
            """

    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("atoll-report-\(UUID().uuidString)")
    }

    /// Runs `yaml` on `ranks` local ranks into a new folder.
    static func run(_ yaml: String, ranks: Int = 2) throws -> URL {
        let directory = folder()
        var quiet = Run.Options()
        quiet.output = { _ in }
        quiet.warn = { _ in }
        let options = quiet
        let config = try RunConfig.parse(yaml)
        _ = try LocalCommunicator.run(size: ranks) { comm in
            try Run.start(config: config, directory: directory, communicator: comm, options: options)
        }
        return directory
    }

    /// An element of the parsed page.
    struct Element {
        var name: String
        var attributes: [String: String]
        /// `aria-label` of the enclosing `<svg>`.
        var chart: String?
    }

    /// Parses `html` as XML (the page is written to be well-formed); throws on the first error.
    static func elements(_ html: String) throws -> [Element] {
        let parser = XMLParser(data: Data(html.utf8))
        let collector = Collector()
        parser.delegate = collector
        guard parser.parse() else {
            throw ReportTestError(
                "not well-formed at line \(parser.lineNumber), column \(parser.columnNumber): \(parser.parserError.map { "\($0)" } ?? "?")"
            )
        }
        return collector.elements
    }

    final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        var chart: String?

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if name == "svg" { chart = attributes["aria-label"] }
            elements.append(Element(name: name, attributes: attributes, chart: chart))
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "svg" { chart = nil }
        }
    }

    struct ReportTestError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The polylines of the chart titled `chart`.
    static func polylines(_ elements: [Element], chart: String) -> [Element] {
        elements.filter { $0.name == "polyline" && $0.chart == chart }
    }

    /// Points in a polyline's `points` attribute.
    static func pointCount(_ element: Element) -> Int {
        element.attributes["points"]!.split(separator: " ").count
    }
}
