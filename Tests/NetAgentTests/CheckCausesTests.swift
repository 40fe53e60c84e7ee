import Diagnosis
import NetAgent
import NetIO
import Probes
import Testing

/// The cause lines of `CheckCauses` for failures the lab cannot produce (CheckAgainstLabTests
/// covers the ones it can): an API that times out, a name that does not resolve, TLS, a provider
/// error with its own advice, a node that resets every port without echoing, the tunnel API.
struct CheckCausesTests {
    static let url = "http://198.18.0.7:8080"

    static func failure(code: Int, _ words: String) -> PlanFailure {
        PlanFailure(message: "Pi-hole \(url): " + NetIOError(kind: .transfer, code: code, message: words, url: url + "/api/auth").description)
    }

    @Test func anAPIThatCannotBeReachedIsNamedWithItsURLAndTheWayItFailed() {
        #expect(CheckCauses.planFailure(Self.failure(code: 28, "Operation timed out after 2001 milliseconds"), holder: "Pi-hole", url: Self.url)
            == "cannot read Pi-hole at \(Self.url): no answer in time — the host down, or a firewall drops the port?")
        #expect(CheckCauses.planFailure(Self.failure(code: 6, "Could not resolve host: pihole.lan"), holder: "Cloudflare", url: Self.url)
            == "cannot read Cloudflare at \(Self.url): the host name does not resolve — a typo in apiURL, or this machine's DNS?")
        #expect(CheckCauses.planFailure(Self.failure(code: 60, "SSL certificate problem: self-signed certificate"), holder: "Pi-hole", url: Self.url)
            == "cannot read Pi-hole at \(Self.url): TLS failed (SSL certificate problem: self-signed certificate) — a certificate this machine does not trust, or http/https mixed up?")
    }

    @Test func aProviderErrorKeepsItsOwnAdviceAndOnlyAnUnknownOneGetsAGuess() {
        let advised = PlanFailure(message: "Pi-hole \(Self.url): 401 unauthorized password incorrect — check the password given by passwordFile/passwordEnv")
        #expect(CheckCauses.planFailure(advised, holder: "Pi-hole", url: Self.url) == "cannot read Pi-hole at \(Self.url): \(advised.message)")
        let plain = PlanFailure(message: "Cloudflare zone home.test: list records: HTTP 500 internal error")
        #expect(CheckCauses.planFailure(plain, holder: "Cloudflare", url: Self.url)
            == "cannot read Cloudflare at \(Self.url): \(plain.message) — the password/token refused, or the API answered something unexpected?")
    }

    @Test func everyPortRefusedMeansTheHostIsUpEvenWithoutEcho() {
        let facts = ["tcp/50000": "refused 0.2ms", "tcp/10250": "refused 0.1ms", "tcp/6443": "refused 0.1ms", "icmp": "0/3 replies"]
        let result = ProbeResult.failure(.nodes, "cp1", .unreachable, phase: "connect", "nothing listens", facts: facts)
        #expect(CheckCauses.describe(result) == "cp1: TCP 6443, 10250, 50000 refused, no ICMP echo — the host is up but nothing listens "
            + "(the API server, kubelet, Talos apid): Talos services not running (booting, maintenance mode, or stopped?)")
        // One port refused of two, echo answered: that service.
        let one = ProbeResult.failure(.nodes, "w1", .unreachable, phase: "connect", "kubelet refused",
                                      facts: ["tcp/50000": "connected 0.1ms", "tcp/10250": "refused 0.1ms", "icmp": "3/3 replies, median 0.1ms"])
        #expect(CheckCauses.describe(one) == "w1: TCP 10250 refused, ICMP ok — kubelet down?")
    }

    @Test func theTunnelsAPILineBlamesTheAPINotCloudflared() {
        let api = ProbeResult.failure(.tunnel, "tunnel 1111", .timeout, phase: "api",
                                      "the tunnel status cannot be read: " + NetIOError(kind: .transfer, code: 28, message: "Operation timed out").description)
        #expect(CheckCauses.describe(api) == "tunnel 1111: the Cloudflare API cannot be read (Operation timed out) — Cloudflare's API unreachable "
            + "from here, or the token cannot read tunnels (Account: Cloudflare Tunnel: Read)?")
        let ready = ProbeResult.failure(.tunnel, "cloudflared http://127.0.0.1:2000/ready", .unreachable, phase: "ready", "cannot be read")
        #expect(CheckCauses.describe(ready).contains("cloudflared not running"))
    }
}
