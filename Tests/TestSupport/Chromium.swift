import Foundation

/// Debian's headless Chromium, for looking at a page as a person would: a screenshot (PNG)
/// and the DOM after it rendered. Every run gets its own profile folder, and every request
/// that is not to loopback goes to a proxy on 127.0.0.1:9 that refuses it, so the browser's
/// own background traffic (updates, safe browsing) never leaves the machine.
public enum Chromium {
    /// `chromium` on the PATH (scripts/setup installs it), or nil.
    public static var path: String? { Repository.which("chromium") }

    static func arguments(profile: URL) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
         "--user-data-dir=\(profile.path)", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
         "--disable-client-side-phishing-detection", "--no-pings", "--metrics-recording-only",
         "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost;[::1]"]
    }

    /// Renders `url` at `width`×`height` into the PNG `file`; returns how the run ended.
    public static func screenshot(_ url: String, to file: URL, width: Int = 1280, height: Int = 1400) async throws -> Netagent.Outcome {
        guard let path else { throw TestSupportError("chromium is not installed (scripts/setup installs it)") }
        let profile = try Repository.temporaryFolder("chromium")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try await Netagent.run(URL(fileURLWithPath: path), arguments(profile: profile)
            + ["--screenshot=\(file.path)", "--window-size=\(width),\(height)", url])
    }

    /// The DOM of `url` after it loaded, serialised (`--dump-dom`).
    public static func dumpDOM(_ url: String) async throws -> Netagent.Outcome {
        guard let path else { throw TestSupportError("chromium is not installed (scripts/setup installs it)") }
        let profile = try Repository.temporaryFolder("chromium")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try await Netagent.run(URL(fileURLWithPath: path), arguments(profile: profile) + ["--dump-dom", url])
    }
}
