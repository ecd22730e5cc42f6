import DriftlessCore
import Testing

/// The dashboard's HTML builder (docs/security.md, The dashboard): nothing dynamic becomes markup.
@Suite("HTML escaping")
struct HTMLTests {
    static let hostile = [
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' onmouseover='alert(1)", "&lt;already&gt;",
        "</td></tr></table><script>x</script>", "a\u{0}b", "javascript:alert(1)", "Users can view their own profile.",
    ]

    @Test(arguments: hostile) func textAndAttributesAreEscaped(value: String) {
        var html = HTML()
        html.element("td", [("title", value), ("class", nil)], text: value)
        let out = html.description
        // One element, its attribute and its text: no other tag, no attribute break-out.
        #expect(out.hasPrefix("<td title=\"") && out.hasSuffix("</td>"), "\(out)")
        #expect(out.filter { $0 == "<" }.count == 2, "\(out)")
        #expect(out.filter { $0 == "\"" }.count == 2, "\(out)")
        #expect(!out.contains("'") && !out.contains("\u{0}"))
        #expect(!out.contains("class="), "a nil attribute is left out")
    }

    @Test func escapingIsExactAndReversible() {
        #expect(HTML.escape("<a href=\"x\">Tom & 'Jerry'</a>") == "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;")
        #expect(HTML.escape("plain ünïcödé ✓") == "plain ünïcödé ✓")
        let document = HTML.document { html in
            html.element("p") { $0.text("<b>") }
            html.void("meta", [("charset", "utf-8")])
        }
        #expect(document.description == "<!DOCTYPE html>\n<p>&lt;b&gt;</p><meta charset=\"utf-8\">")
    }
}
