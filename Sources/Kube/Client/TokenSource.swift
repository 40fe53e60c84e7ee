import Foundation

/// Bearer tokens for requests. A token file is read again once `refreshInterval` has passed
/// since the last read (client-go: once a minute) and at once after a 401, so a rotated
/// projected service-account token is picked up.
actor TokenSource {
    let credentials: ClusterConnection.Credentials
    let refreshInterval: Duration
    private var cached: (token: String, readAt: ContinuousClock.Instant)?

    init(credentials: ClusterConnection.Credentials, refreshInterval: Duration = .seconds(60)) {
        self.credentials = credentials
        self.refreshInterval = refreshInterval
    }

    /// The token to send, nil for none. Throws when the token file cannot be read.
    func token() throws(KubeError) -> String? {
        switch credentials {
        case .none: return nil
        case .token(let token): return token
        case .tokenFile(let path):
            let now = ContinuousClock.now
            if let cached, cached.readAt.duration(to: now) < refreshInterval { return cached.token }
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw KubeError(code: .configuration, message: "cannot read the token file \(path): \(error.localizedDescription)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            cached = (token, now)
            return token
        }
    }

    /// Forgets the cached token (after a 401); true when re-reading may help.
    func invalidate() -> Bool {
        guard case .tokenFile = credentials else { return false }
        cached = nil
        return true
    }
}
