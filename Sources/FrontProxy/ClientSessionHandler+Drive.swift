import FrontCore
import FrontSession
import MQTTWire
import NIOCore

/// Feeding the session machine and carrying out its actions.
///
/// Actions that lead to a new event at once (``SessionMachine/Action/admit``, `.route`, `.dial`,
/// `.sniffPending`) come last in what one event returns, so feeding that event from inside
/// ``perform(_:)`` keeps the order.
extension ClientSessionHandler {
    /// Tells the machine `event`, now, and does what it says.
    func feed(_ event: SessionMachine.Event) {
        perform(machine.handle(event, at: loop.now()))
    }

    func perform(_ actions: SessionMachine.Actions) {
        for action in actions {
            switch action {
            case .arm(let time):
                arm(time)
            case .admit:
                books.releaseConnectBytes(listener)
                admit()
            case .sniffPending:
                pending?.withUnsafeReadableBytes { feed(.clientBytes($0)) }
            case .route:
                route()
            case .dial(let order):
                dial(order)
            case .dialFailed(let server, let failure, let counts):
                noteDialFailed(server, failure, counts: counts)
            case .serverLost:
                if let server {
                    books.serverLost(server)
                    machineDeadlineTick = 0
                    loop.wheel.cancel(self)
                }
                if let replay {
                    pending = replay
                    self.replay = nil
                }
            case .dropServer:
                upstream?.close()
            case .invalidConnect(let error):
                listener.logger.debug(
                    "refusing client: not a valid CONNECT",
                    metadata: ["client": .string(clientAddress), "error": .string("\(error)")])
            case .refuse(_, let reply):
                refuse(sending: reply)
            case .shutdownOutput(.server):
                upstream?.shutdownOutput()
            case .shutdownOutput(.client):
                context?.close(mode: .output, promise: nil)
            case .close:
                closeBoth()
            case .abortDial:
                // Asked only of a connect reported in progress, which a channel's dial never is: its
                // bootstrap has its own connect timeout.
                break
            }
        }
    }

    /// Files the machine's next deadline on the wheel (nil: it has none).
    func arm(_ time: MonotonicTime?) {
        // +1: a tick rounds down, so without it the deadline could fire up to one tick early.
        machineDeadlineTick = time.map { loop.tick(of: $0) + 1 } ?? 0
        scheduleDeadline()
    }

    /// The next tick the session needs the wheel: the machine's deadline, or a move's if sooner.
    var nextDeadline: Int64? {
        let machineTick = machineDeadlineTick > 0 ? machineDeadlineTick : nil
        guard let moveTick = move?.deadlineTick else { return machineTick }
        return min(moveTick, machineTick ?? moveTick)
    }

    /// (Re)schedules the session on the wheel for ``nextDeadline``.
    func scheduleDeadline() {
        if let next = nextDeadline {
            loop.wheel.schedule(self, at: next)
        } else {
            loop.wheel.cancel(self)
        }
    }

    /// Closes both sides, wherever they are.
    private func closeBoth() {
        upstream?.close()
        context?.close(promise: nil)
    }

    /// Answers a client the front cannot serve with `bytes` (a refusing CONNACK, or nothing), then closes.
    private func refuse(sending bytes: [UInt8]) {
        guard holdsClient else { return }
        bytesOut &+= UInt64(bytes.count)
        listener.metrics.bytesOut.increment(by: Int64(bytes.count))
        guard let context else { return }
        if !bytes.isEmpty {
            let buffer = context.channel.allocator.buffer(bytes: bytes)
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                self.context?.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }
}
