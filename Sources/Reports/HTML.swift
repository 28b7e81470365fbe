import Foundation

/// Small helpers to write HTML text safely.
public enum HTML {
    /// `text` with `& < > " '` replaced by entities, for element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A `<table>`: one header row, then the rows; cells are escaped.
    public static func table(header: [String], rows: [[String]], className: String = "data") -> String {
        var out = "<table class=\"\(className)\"><thead><tr>"
        for cell in header { out += "<th>\(escape(cell))</th>" }
        out += "</tr></thead><tbody>"
        for row in rows {
            out += "<tr>"
            for cell in row { out += "<td>\(escape(cell))</td>" }
            out += "</tr>"
        }
        return out + "</tbody></table>\n"
    }

    /// A two-column table of names and values.
    public static func keyValueTable(_ rows: [(String, String)]) -> String {
        var out = "<table class=\"kv\"><tbody>"
        for (key, value) in rows { out += "<tr><th>\(escape(key))</th><td>\(escape(value))</td></tr>" }
        return out + "</tbody></table>\n"
    }

    /// A number with at most `digits` significant digits.
    public static func number(_ value: Double, digits: Int = 6) -> String {
        value.isFinite ? String(format: "%.\(digits)g", value) : "\(value)"
    }

    /// The whole page: a title, the inline style sheet, and `body`.
    public static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(escape(title))</title>
        <style>
        \(styleSheet)
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// The report's look: system fonts only (no web fonts), charts at most 760 px wide.
    static let styleSheet = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px; color: #1d2430; background: #fff; padding: 0 16px; }
        h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #d8dde6; padding-bottom: 4px; }
        h3 { font-size: 15px; margin: 18px 0 6px; } p.note, .status { color: #4a5568; font-size: 14px; }
        .status.unfinished { color: #9a4d00; font-weight: 600; }
        table { border-collapse: collapse; font-size: 13px; margin: 8px 0; } th, td { padding: 3px 10px; border-bottom: 1px solid #e6e9ef; text-align: left; }
        table.data td { font-variant-numeric: tabular-nums; } table.kv th { font-weight: 600; color: #2d3748; }
        pre { background: #f5f7fa; padding: 10px; font-size: 12px; overflow-x: auto; border: 1px solid #e6e9ef; }
        svg.chart { display: block; max-width: 100%; height: auto; } svg text { font-family: system-ui, sans-serif; }
        .grid2 { display: flex; flex-wrap: wrap; gap: 12px 28px; } .legend { font-size: 12px; display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 2px 0 8px 60px; }
        .legend span.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
        .legend span.band { display: inline-block; width: 14px; height: 10px; vertical-align: middle; margin-right: 4px; background: #f6d98b; }
        """
}
