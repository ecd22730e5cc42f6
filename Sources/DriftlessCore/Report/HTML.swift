/// HTML built so that nothing dynamic can become markup (docs/security.md, The dashboard):
/// tag and attribute names are compile-time constants (`StaticString`), and every value, text
/// or attribute, is escaped on the way in. Pure; the dashboard's pages are made of it.
public struct HTML: Sendable, CustomStringConvertible {
    public private(set) var description = ""

    public init() {}

    /// `<!DOCTYPE html>` and the document built by `body`.
    public static func document(_ body: (inout HTML) -> Void) -> HTML {
        var html = HTML()
        html.description = "<!DOCTYPE html>\n"
        body(&html)
        return html
    }

    /// Text, escaped.
    public mutating func text(_ value: String) {
        description += HTML.escape(value)
    }

    /// An element with `attributes` (values escaped; a nil value leaves the attribute out) and
    /// content built by `body`.
    public mutating func element(_ tag: StaticString, _ attributes: [(StaticString, String?)] = [], _ body: (inout HTML) -> Void = { _ in }) {
        open(tag, attributes)
        body(&self)
        description += "</\(tag)>"
    }

    /// An element holding only `text`.
    public mutating func element(_ tag: StaticString, _ attributes: [(StaticString, String?)] = [], text: String) {
        element(tag, attributes) { $0.text(text) }
    }

    /// An element without content or end tag (`meta`, `link`, `input`).
    public mutating func void(_ tag: StaticString, _ attributes: [(StaticString, String?)] = []) {
        open(tag, attributes)
    }

    private mutating func open(_ tag: StaticString, _ attributes: [(StaticString, String?)]) {
        description += "<\(tag)"
        for (name, value) in attributes {
            guard let value else { continue }
            description += " \(name)=\"\(HTML.escape(value))\""
        }
        description += ">"
    }

    /// `&`, `<`, `>`, `"` and `'` as character references; other characters as they are (the
    /// page is UTF-8). NUL, which HTML turns into U+FFFD anyway, is dropped.
    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}": continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
