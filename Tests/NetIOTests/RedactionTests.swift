import Foundation
import NetIO
import Testing

/// The one redactor (issue 20, defect 7): URLs, credential headers as lines or JSON members,
/// bearer credentials, and registered secrets, as is and in base64.
@Suite struct RedactionTests {
    @Test func urlsLoseUserinfoAndEveryQueryValue() {
        #expect(Redaction.url("https://user:pw@api.example/v4?token=abc&page=2#frag") == "https://api.example/v4?token=REDACTED&page=REDACTED#REDACTED")
        #expect(Redaction.url("http://10.0.60.53") == "http://10.0.60.53")
        #expect(Redaction.text("see http://pi.hole/admin?token=abc123 now") == "see http://pi.hole/admin?token=REDACTED now")
    }

    @Test func credentialHeadersAsLinesAndJSON() {
        let echoed = "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-Zq81\r\nCookie: sid=abc\r\nX-Auth-Key: k-9\r\nX-FTL-SID: s-7\r\n"
        let text = Redaction.text(echoed)
        for secret in ["tok-Zq81", "sid=abc", "k-9", "s-7"] { #expect(!text.contains(secret), "\(text)") }
        #expect(text.contains("Host: x"))
        let json = Redaction.text(#"{"headers":{"Authorization":"Bearer tok-Zq81","X-Auth-Email":"me@x"},"session":{"sid":"s-7"}}"#)
        for secret in ["tok-Zq81", "me@x", "s-7"] { #expect(!json.contains(secret), "\(json)") }
        #expect(Redaction.text("token tok-Zq81 refused") == "token REDACTED refused")
    }

    @Test func registeredSecretsAsIsAndBase64() {
        let secret = "registered-secret-\(UUID().uuidString.prefix(8))"
        Redaction.register(secret: secret)
        let base64 = Data(secret.utf8).base64EncodedString()
        let text = Redaction.text("a \(secret) b \(base64) c")
        #expect(text == "a REDACTED b REDACTED c", "\(text)")
        Redaction.register(secret: "ab")  // too short to search for: never masks every "ab"
        #expect(Redaction.text("abc") == "abc")
    }
}
