/// An error that may have a transport failure behind it (a provider's error for an API that
/// could not be reached): callers read the curl code from the typed error, never from its text.
public protocol CarriesTransportError: Error {
    /// The transport failure behind this error, if that is what it is.
    var transport: NetIOError? { get }
}

extension NetIOError: CarriesTransportError {
    public var transport: NetIOError? { self }
}
