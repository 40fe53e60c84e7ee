import DNSCore
import Testing

/// The owner marker of `registry: comment`: only a last word of the exact form is a marker.
struct CommentMarkerTests {
    @Test("comments read as owned or not", arguments: [
        ("heritage=netagent,owner=home", "home", nil, nil),
        ("heritage=netagent,owner=home,kind=crd", "home", "crd/", nil),
        ("media server heritage=netagent,owner=home,kind=httproute", "home", "httproute/", "media server"),
        ("a, b=c heritage=netagent,owner=lab2,future=1", "lab2", nil, "a, b=c"),
        ("heritage=netagent,owner=home trailing", nil, nil, nil),
        ("heritage=netagent", nil, nil, nil),
        ("heritage=netagent,owner=", nil, nil, nil),
        ("heritage=netagent,owner=a,owner=b", nil, nil, nil),
        ("heritage=netagent,kind=crd", nil, nil, nil),
        ("heritage=external-dns,owner=home", nil, nil, nil),
        ("xheritage=netagent,owner=home", nil, nil, nil),
        ("heritage=netagent,owner=home,broken", nil, nil, nil),
        // The kind is the peer's text: only a plain word, once, as `marker` writes it.
        ("heritage=netagent,owner=home,kind=crd,kind=httproute", nil, nil, nil),
        ("heritage=netagent,owner=home,kind=crd/x", nil, nil, nil),
        ("heritage=netagent,owner=home,kind=a\u{1B}[2J", nil, nil, nil),
        ("heritage=netagent,owner=home,kind=my-route.v2", "home", "my-route.v2/", nil),
        ("", nil, nil, nil),
    ] as [(String, String?, String?, String?)])
    func parse(_ comment: String, _ owner: String?, _ resource: String?, _ userText: String?) {
        let found = CommentMarker.parse(comment)
        #expect(found?.labels.owner == owner)
        #expect(found?.labels.resource == resource)
        #expect(found?.userText == userText)
    }

    @Test func composeRoundTripsTheUsersTextAndTheLabels() throws {
        for text in [nil, "", "jellyfin", "ends with a marker-like heritage=netagent,owner=evil"] as [String?] {
            let comment = CommentMarker.compose(userText: text, owner: "home", resource: "httproute/media/jellyfin")
            let found = try #require(CommentMarker.parse(comment))
            #expect(found.labels == EndpointLabels(owner: "home", resource: "httproute/"))
            #expect(found.userText == (text?.isEmpty == false ? text : nil))
        }
        #expect(CommentMarker.marker(owner: "home", resource: "weird kind/x") == "heritage=netagent,owner=home")
    }
}
