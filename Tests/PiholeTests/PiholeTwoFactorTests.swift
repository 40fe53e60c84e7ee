import DNSCore
import Foundation
@testable import Lab
import NetIO
import Pihole
import Testing
import TestSupport

@Suite struct TOTPTests {
    /// RFC 6238 appendix B, SHA-1 rows (8-digit codes), and RFC 3174's SHA-1 of "abc".
    @Test(arguments: [(59.0, 94_287_082), (1_111_111_109.0, 7_081_804), (1_234_567_890.0, 89_005_924), (20_000_000_000.0, 65_353_130)])
    func matchesTheRFCVectors(time: Double, code: Int) {
        let secret = Array("12345678901234567890".utf8)
        #expect(TOTP.code(secret: secret, step: TOTP.step(unixTime: time), digits: 8) == code)
    }

    @Test func sha1OfABC() {
        let hex = TOTP.sha1(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }
}

@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct PiholeTwoFactorTests {
    static let secret = Array("netagent-2fa-secret".utf8)

    static func login(_ url: String, _ body: [String: Any]) async throws -> (Int, String) {
        let response = try await HTTPClient().send(HTTPRequest(
            method: "POST", url: url + "/api/auth", headers: [HTTPHeader(name: "Content-Type", value: "application/json")],
            body: try JSONSerialization.data(withJSONObject: body)))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    @Test func theSimulatorChecksCodesAsFTLDoes() async throws {
        var options = PiholeSimulator.Options()
        options.totpSecret = Self.secret
        try await PiholeSimulator(options).withRunning { url in
            let (missing, missingBody) = try await Self.login(url, ["password": "pihole-lab-password"])
            #expect(missing == 400 && missingBody.contains("No 2FA token"))
            let (wrong, _) = try await Self.login(url, ["password": "pihole-lab-password", "totp": 1])
            #expect(wrong == 401)
            let code = TOTP.code(secret: Self.secret, step: TOTP.step(unixTime: Date().timeIntervalSince1970))
            let (good, goodBody) = try await Self.login(url, ["password": "pihole-lab-password", "totp": code])
            #expect(good == 200 && goodBody.contains("\"valid\":true"))
            // FTL checks at most 3 passwords a second; the fourth waits for the next second.
            try await Task.sleep(for: .milliseconds(1100))
            let (reused, reusedBody) = try await Self.login(url, ["password": "pihole-lab-password", "totp": code])
            #expect(reused == 401 && reusedBody.contains("Reused"))
        }
    }

    @Test func theProviderExplainsTwoFactorAndWorksWithAnAppPassword() async throws {
        var options = PiholeSimulator.Options()
        options.totpSecret = Self.secret
        options.appPassword = "app-pass"
        options.appSudo = true
        try await PiholeSimulator(options).withRunning { url in
            do {
                _ = try await PiholeClient(url: url, password: "pihole-lab-password", sleep: { _ in }).lines(.hosts)
                Issue.record("the main password logged in without a 2FA code")
            } catch let error as PiholeError {
                #expect(error.kind == .twoFactor)
                #expect(error.description.contains("app password"))
            }
            let client = PiholeClient(url: url, password: "app-pass", sleep: { _ in })
            try await client.add("198.18.0.7 app.home.test", to: .hosts)
            #expect(try await client.lines(.hosts) == ["198.18.0.7 app.home.test"])
            await client.logout()
        }
    }
}
