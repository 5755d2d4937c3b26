import FrontConfig
import FrontSession
import Logging

/// Admission before the CONNECT: what a connection must pass from its accept on, before the
/// front reads (or, on TLS, decrypts) a byte of MQTT. A refusal here is a close with no bytes.
extension ClientSessionHandler {
    /// At accept, in order: the PROXY header's sender must be trusted (`accept_proxy_protocol.trusted`,
    /// else reason `proxy_protocol`); `per_source_ip` counts the socket's peer (after the header on a
    /// PROXY listener, where the header names the client); a TLS listener applies `accept_rate`
    /// before the handshake (over it, the connection waits in the loop's queue, reads withheld).
    func admitAtAccept() {
        feed(.admission(acceptVerdict()))
    }

    private func acceptVerdict() -> AdmissionVerdict {
        if listener.config.acceptProxyProtocol {
            guard listener.config.trustsProxy(books.clientIP) else {
                listener.logger.debug(
                    "refusing client: PROXY header sender not in accept_proxy_protocol.trusted",
                    metadata: ["client": .string(books.clientAddress)])
                return .refused(.proxyProtocol)
            }
        } else if !books.acquireSourceSlot(listener) {
            return .refused(.limit)
        }
        if listener.tls != nil, let rate = listener.acceptRate {
            rateAppliedAtAccept = true
            if !rate.tryTake() {
                guard rate.tryQueue() else { return .refused(.limit) }
                loop.enqueueForAdmission(self)
                return .queued
            }
        }
        return .admitted
    }

    /// Counts the connection against its client IP's `per_source_ip`; over it, closes the connection
    /// at once (reason `limit`) and returns false.
    func takeSourceSlot() -> Bool {
        guard books.acquireSourceSlot(listener) else {
            feed(.terminate(.limit))
            return false
        }
        return true
    }

    /// Counts `count` more bytes of a CONNECT still arriving in `max_pending_connect_bytes`; past
    /// it, closes the connection (reason `limit`) and returns false.
    func holdConnectBytes(_ count: Int) -> Bool {
        guard listener.pendingConnect.tryHold(count) else {
            listener.logger.debug(
                "refusing client: max_pending_connect_bytes reached",
                metadata: ["client": .string(books.clientAddress), "held": "\(listener.pendingConnect.current)"])
            feed(.terminate(.limit))
            return false
        }
        books.heldConnectBytes += count
        return true
    }
}
