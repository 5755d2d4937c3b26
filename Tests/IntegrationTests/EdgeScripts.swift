/// Python 3 helpers the edge tests run as separate processes (written into each test's temporary
/// directory, so nothing outside the package is needed but `python3`). Each prints one line per
/// event on standard output, flushed at once, as `TAG key=value ...`, and exits by itself after a
/// bounded lifetime, so a test that dies early leaves nothing behind for long.
enum EdgeScripts {
    /// `tls_mqtt_client.py HOST PORT CA CERT|- KEY|- BIND|- CLIENT_ID`: one MQTT 3.1.1 clean-session
    /// CONNECT over TLS (server certificate verified against CA, host name `HOST`), from source
    /// address BIND; prints `CONNACK <hex>` (what arrived before the close, up to 4 bytes), sends
    /// DISCONNECT. On a TLS or socket error prints `ERROR <type> <message>` and exits 2.
    static let tlsClient = #"""
        import socket, ssl, sys

        host, port, ca, cert, key, bind, cid = sys.argv[1:8]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(ca)
        if cert != "-":
            ctx.load_cert_chain(cert, key)
        try:
            raw = socket.create_connection(
                (host, int(port)), timeout=5, source_address=(bind, 0) if bind != "-" else None)
            s = ctx.wrap_socket(raw, server_hostname=host)
            c = cid.encode()
            body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(c).to_bytes(2, "big") + c
            s.sendall(bytes([0x10, len(body)]) + body)
            data = b""
            while len(data) < 4:
                chunk = s.recv(4 - len(data))
                if not chunk:
                    break
                data += chunk
            print("CONNACK " + data.hex(), flush=True)
            s.sendall(b"\xe0\x00")
            s.close()
        except (ssl.SSLError, OSError) as e:
            print("ERROR " + type(e).__name__ + " " + str(e).replace(" ", "_"), flush=True)
            sys.exit(2)
        """#

    /// `tls_half_close.py HOST PORT CA CERT KEY CLIENT_ID`: MQTT 3.1.1 CONNECT over TLS with a client
    /// certificate, then a half-close without TLS close_notify (TCP FIN, the socket stays open for
    /// reading, as HAProxy does when a client goes away); prints `CONNACK <hex>`, then `CLOSED
    /// after=<seconds>` once the server closed (or `TIMEOUT` after 10 s).
    static let tlsHalfClose = #"""
        import socket, ssl, sys, time

        host, port, ca, cert, key, cid = sys.argv[1:7]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(ca)
        ctx.load_cert_chain(cert, key)
        s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host)
        c = cid.encode()
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(c).to_bytes(2, "big") + c
        s.sendall(bytes([0x10, len(body)]) + body)
        print("CONNACK " + s.recv(4).hex(), flush=True)
        began = time.monotonic()
        s.shutdown(socket.SHUT_WR)  # drops the TLS layer first: a bare FIN, no close_notify
        try:
            while s.recv(4096):
                pass
            print("CLOSED after=%.3f" % (time.monotonic() - began), flush=True)
        except socket.timeout:
            print("TIMEOUT", flush=True)
        except OSError:
            print("CLOSED after=%.3f" % (time.monotonic() - began), flush=True)
        """#

    /// `mqtt_holder.py HOST PORT PREFIX COUNT BIND|- INFLIGHT LIFETIME`: opens COUNT MQTT 3.1.1
    /// sessions (`PREFIX0` ...; clean session, keepalive 60) with at most INFLIGHT connects under way,
    /// then holds them without sending anything.
    ///
    /// Prints `READY ok= failed= elapsed=` when every first attempt is answered; `FAIL id= why=`
    /// for a refused attempt; `CLOSED id=` when a held session is closed by the other side.
    /// SIGUSR1: reconnect every closed (or failed) id, then print `RECONNECTED ok= failed= elapsed=`.
    /// SIGUSR2: send PINGREQ on every open session, then print `PINGED sent= got=` (sessions that
    /// answered with PINGRESP within 5 s). Exits after LIFETIME seconds (`EXIT`).
    static let holder = #"""
        import collections, selectors, signal, socket, sys, time

        HOST, PORT, PREFIX, COUNT = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        BIND = None if sys.argv[5] == "-" else sys.argv[5]
        INFLIGHT, LIFETIME = int(sys.argv[6]), float(sys.argv[7])

        def out(line):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

        def connect_packet(cid):
            c = cid.encode()
            body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(c).to_bytes(2, "big") + c
            return bytes([0x10, len(body)]) + body

        sel = selectors.DefaultSelector()
        conns = {}
        queue = collections.deque()
        closed = []
        flags = {"reconnect": False, "ping": False}
        signal.signal(signal.SIGUSR1, lambda *a: flags.__setitem__("reconnect", True))
        signal.signal(signal.SIGUSR2, lambda *a: flags.__setitem__("ping", True))
        inflight = 0
        batch = None
        ping = None

        def new_batch(name, ids):
            queue.extend(ids)
            return {"name": name, "ok": 0, "failed": 0, "started": time.monotonic()}

        def start(cid):
            global inflight
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            c = {"id": cid, "sock": s, "phase": "connecting", "buf": b"", "pong": False}
            conns[cid] = c
            inflight += 1
            try:
                if BIND:
                    s.bind((BIND, 0))
                s.connect_ex((HOST, PORT))
                sel.register(s, selectors.EVENT_WRITE, c)
            except OSError as e:
                attempt_done(c, False, "connect:" + str(e.errno))

        def drop(c):
            try:
                sel.unregister(c["sock"])
            except (KeyError, ValueError):
                pass
            c["sock"].close()
            c["phase"] = "closed"

        def attempt_done(c, ok, why=""):
            global inflight
            inflight -= 1
            if ok:
                batch["ok"] += 1
                c["phase"] = "open"
            else:
                batch["failed"] += 1
                out("FAIL id=%s why=%s" % (c["id"], why))
                drop(c)
                closed.append(c["id"])

        def readable(c):
            try:
                data = c["sock"].recv(4096)
            except OSError:
                data = b""
            if c["phase"] == "connack":
                if not data:
                    attempt_done(c, False, "closed")
                    return
                c["buf"] += data
                if len(c["buf"]) >= 4:
                    code = c["buf"][3]
                    if c["buf"][0] == 0x20 and code == 0:
                        c["buf"] = c["buf"][4:]
                        attempt_done(c, True)
                    else:
                        attempt_done(c, False, "connack:" + c["buf"][:4].hex())
                return
            if not data:
                out("CLOSED id=%s" % c["id"])
                drop(c)
                closed.append(c["id"])
                return
            c["buf"] += data
            while len(c["buf"]) >= 2 and len(c["buf"]) >= 2 + c["buf"][1]:
                if c["buf"][0] >> 4 == 13:
                    c["pong"] = True
                c["buf"] = c["buf"][2 + c["buf"][1]:]

        def writable(c):
            err = c["sock"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                attempt_done(c, False, "connect:" + str(err))
                return
            c["sock"].send(connect_packet(c["id"]))
            c["phase"] = "connack"
            sel.modify(c["sock"], selectors.EVENT_READ, c)

        began = time.monotonic()
        batch = new_batch("READY", [PREFIX + str(i) for i in range(COUNT)])
        while time.monotonic() - began < LIFETIME:
            while queue and inflight < INFLIGHT:
                start(queue.popleft())
            if batch and not queue and inflight == 0:
                out("%s ok=%d failed=%d elapsed=%.3f" % (
                    batch["name"], batch["ok"], batch["failed"], time.monotonic() - batch["started"]))
                batch = None
            if flags["reconnect"] and batch is None:
                flags["reconnect"] = False
                ids = closed[:]
                closed.clear()
                batch = new_batch("RECONNECTED", ids)
                continue
            if flags["ping"] and ping is None:
                flags["ping"] = False
                targets = [c for c in conns.values() if c["phase"] == "open"]
                for c in targets:
                    c["pong"] = False
                    try:
                        c["sock"].send(b"\xc0\x00")
                    except OSError:
                        pass
                ping = {"targets": targets, "deadline": time.monotonic() + 5}
            if ping:
                got = sum(1 for c in ping["targets"] if c["pong"])
                if got == len(ping["targets"]) or time.monotonic() > ping["deadline"]:
                    out("PINGED sent=%d got=%d" % (len(ping["targets"]), got))
                    ping = None
            for key, mask in sel.select(timeout=0.05):
                c = key.data
                if mask & selectors.EVENT_WRITE and c["phase"] == "connecting":
                    writable(c)
                elif mask & selectors.EVENT_READ:
                    readable(c)
        out("EXIT")
        """#

    /// `silent_holder.py HOST PORT COUNT BIND[,BIND...] LIFETIME`: opens COUNT TCP connections (spread
    /// over the source addresses) and never sends a byte; waits for the peer to close each.
    ///
    /// Prints `OPENED ok= failed= elapsed=` when every connect resolved, then `DONE closed= open=
    /// data= first= last= min_held= max_held=` when all were closed by the peer or LIFETIME passed
    /// (times in seconds; `held` runs from the `connect` call to the moment the close was seen, so
    /// it can only overstate how long the peer held the connection; `data` counts connections that
    /// received any byte).
    static let silentHolder = #"""
        import selectors, socket, sys, time

        HOST, PORT, COUNT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        BINDS, LIFETIME = sys.argv[4].split(","), float(sys.argv[5])
        sel = selectors.DefaultSelector()
        began = time.monotonic()
        pending, ok, failed, closed, data = 0, 0, 0, 0, 0
        held = []
        close_times = []
        for i in range(COUNT):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.bind((BINDS[i % len(BINDS)], 0))
                s.connect_ex((HOST, PORT))
            except OSError:
                failed += 1
                s.close()
                continue
            sel.register(s, selectors.EVENT_WRITE, {"sock": s, "phase": "connecting", "at": time.monotonic()})
            pending += 1
        reported = False
        while time.monotonic() - began < LIFETIME:
            if pending == 0 and not reported:
                print("OPENED ok=%d failed=%d elapsed=%.3f" % (ok, failed, time.monotonic() - began), flush=True)
                reported = True
            if reported and closed == ok:
                break
            for key, mask in sel.select(timeout=0.05):
                c = key.data
                s = c["sock"]
                if c["phase"] == "connecting":
                    pending -= 1
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        failed += 1
                        sel.unregister(s)
                        s.close()
                        continue
                    ok += 1
                    c["phase"] = "open"
                    sel.modify(s, selectors.EVENT_READ, c)
                    continue
                try:
                    chunk = s.recv(4096)
                except OSError:
                    chunk = b""
                if chunk:
                    data += 1
                    continue
                now = time.monotonic()
                held.append(now - c["at"])
                close_times.append(now - began)
                closed += 1
                sel.unregister(s)
                s.close()
        if not reported:
            print("OPENED ok=%d failed=%d elapsed=%.3f" % (ok, failed, time.monotonic() - began), flush=True)
        print("DONE closed=%d open=%d data=%d first=%.3f last=%.3f min_held=%.3f max_held=%.3f" % (
            closed, ok - closed, data, min(close_times or [0]), max(close_times or [0]),
            min(held or [0]), max(held or [0])), flush=True)
        """#
}
