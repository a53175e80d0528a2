import Foundation

/// A file-system error in the system's own few words: the POSIX message of its errno (`No such file or directory`,
/// `Permission denied`, `No space left on device`), else Foundation's reason (`The file doesn’t exist.`); any other
/// error as its description. Never the NSError's dump of its domain, code and user info.
public func fileSystemReason(_ error: any Error) -> String {
    let ns = error as NSError
    guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
    if let posix = ns.domain == NSPOSIXErrorDomain ? ns : ns.userInfo[NSUnderlyingErrorKey] as? NSError,
        posix.domain == NSPOSIXErrorDomain
    {
        return String(cString: strerror(Int32(posix.code)))
    }
    return ns.localizedFailureReason ?? ns.localizedDescription
}
