import NetIO
import Testing

@Suite struct IPAddressTests {
    @Test func parsesAndPrintsBothFamilies() throws {
        #expect(IPAddress("198.18.0.10")?.description == "198.18.0.10")
        #expect(IPAddress("2001:DB8:0:0::1")?.description == "2001:db8::1")
        #expect(IPAddress("198.18.0.256") == nil)
    }

    /// Found by the fuzzer (Fuzz/Crashes/dnsname): inet_pton stopped at the NUL, so the text
    /// before it passed as an address and a Pi-hole line "198.18.0.10\0junk name" was read as one.
    @Test func textWithANulIsNoAddress() {
        #expect(IPAddress("198.18.0.10\u{0}=") == nil)
        #expect(IPAddress("::1\u{0}") == nil)
        #expect(!IPAddress.isValid("198.18.0.10\u{0}"))
    }
}
