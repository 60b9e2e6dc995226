// TCP ports on 127.0.0.1 for tests that start servers or process groups: the kernel chooses (port 0), so parallel
// runs never collide on a fixed number.
import Foundation
import Glibc

public enum LoopbackPort {
    /// A new TCP socket bound to 127.0.0.1 on a port the kernel chose, and that port; nil when binding fails. The
    /// caller closes the socket (or listens on it, to keep the port taken).
    public static func bind() -> (socket: Int32, port: Int)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else {
            if fd >= 0 { close(fd) }
            return nil
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A TCP port nobody listens on now (bound, then released); 0 when the kernel gave none.
    public static func free() -> Int {
        guard let (fd, port) = bind() else { return 0 }
        close(fd)
        return port
    }
}
