/// The Python 3 client the fault tests (and `bench/soak.sh`, which extracts it from this file between
/// the `BEGIN`/`END` marker lines) run as separate processes, so thousands of sockets live outside the
/// test process and the front's own descriptor budget is the only one that matters.
enum FaultScripts {
    /// `sessions.py --port P [options]`: opens `--count` MQTT 3.1.1 clean sessions (`PREFIX0`, ...) with at
    /// most `--inflight` connects under way, optionally subscribes each to its own topic (`--echo`), then
    /// publishes (`--publish-interval`, `--payload`), pushes bulk bytes (`--push`), churns (`--churn`) and
    /// reconnects closed ids (`--reconnect`). Single-threaded (selectors/epoll), non-blocking.
    ///
    /// Prints one line per event on standard output, flushed at once, as `TAG key=value ...`:
    /// `READY ok= failed= elapsed=` when every first attempt is answered; `FAIL id= why=` for a refused
    /// first attempt (`connack:CODE`, `closed`, `reset`, `timeout`, `connect:ERRNO`); `CLOSED id= why=
    /// after=` when an open session is closed by the other side; `RECONNECTED id= after=` /
    /// `REFAIL id= why=` for later attempts; `STATS ...` every `--report` seconds and on SIGUSR1;
    /// `FINAL ...` at the end. SIGUSR2 or the end of `--lifetime`: stop publishing, wait up to 5 s for
    /// outstanding echoes, print `FINAL`, send DISCONNECT on every open session and exit 0. SIGTERM:
    /// print `FINAL` and exit at once. STATS/FINAL keys: `open pending failed closed reconnected churned
    /// sent recv outstanding lost_closed pushed pushdone t`.
    static let sessions = #"""
        # BEGIN sessions.py
        import argparse, collections, random, selectors, signal, socket, sys, time

        ap = argparse.ArgumentParser()
        ap.add_argument("--host", default="127.0.0.1")
        ap.add_argument("--port", type=int, required=True)
        ap.add_argument("--prefix", default="s")
        ap.add_argument("--count", type=int, default=1)
        ap.add_argument("--bind", default="")
        ap.add_argument("--inflight", type=int, default=50)
        ap.add_argument("--lifetime", type=float, default=60)
        ap.add_argument("--keepalive", type=int, default=60)
        ap.add_argument("--publish-interval", type=float, default=0)
        ap.add_argument("--payload", type=int, default=16)
        ap.add_argument("--echo", action="store_true")
        ap.add_argument("--push", type=int, default=0)
        ap.add_argument("--push-chunk", type=int, default=65536)
        ap.add_argument("--push-on-signal", action="store_true")
        ap.add_argument("--reconnect", type=float, default=-1)
        ap.add_argument("--churn", type=float, default=0)
        ap.add_argument("--attempt-timeout", type=float, default=30)
        ap.add_argument("--report", type=float, default=0)
        A = ap.parse_args()
        BINDS = [b for b in A.bind.split(",") if b]
        T0 = time.monotonic()

        def out(line):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

        def varint(n):
            b = bytearray()
            while True:
                d, n = n % 128, n // 128
                b.append(d | (0x80 if n else 0))
                if not n:
                    return bytes(b)

        def pkt(first, body):
            return bytes([first]) + varint(len(body)) + body

        def mstr(s):
            b = s.encode()
            return len(b).to_bytes(2, "big") + b

        def connect_pkt(cid):
            return pkt(0x10, mstr("MQTT") + bytes([4, 2]) + A.keepalive.to_bytes(2, "big") + mstr(cid))

        PINGREQ, DISCONNECT = b"\xc0\x00", b"\xe0\x00"

        class Conn:
            __slots__ = ("cid", "sock", "phase", "inb", "outb", "gen", "sent", "recv", "pushed", "started",
                         "opened", "first", "chunk", "topic")

        sel = selectors.DefaultSelector()
        conns = {}
        queue = collections.deque()          # (not_before, cid, first_attempt)
        schedule = collections.deque()        # (due, cid, gen): next publish / ping
        attempts = {}                         # cid -> deadline
        st = collections.Counter()
        lost_closed = 0
        bind_next = 0
        flags = {"stats": False, "finish": False, "term": False, "go": not A.push_on_signal}
        signal.signal(signal.SIGHUP, lambda *a: flags.__setitem__("go", True))
        signal.signal(signal.SIGUSR1, lambda *a: flags.__setitem__("stats", True))
        signal.signal(signal.SIGUSR2, lambda *a: flags.__setitem__("finish", True))
        signal.signal(signal.SIGTERM, lambda *a: flags.__setitem__("term", True))
        first_total = A.count
        first_done = 0
        ready_printed = False
        publishing = True

        def interest(c):
            ev = selectors.EVENT_READ
            if c.outb or c.phase == "connecting":
                ev |= selectors.EVENT_WRITE
            try:
                sel.modify(c.sock, ev, c)
            except (KeyError, ValueError):
                pass

        def start(cid, first):
            global bind_next
            c = conns.get(cid) or Conn()
            c.cid, c.phase, c.inb, c.outb = cid, "connecting", b"", bytearray()
            c.gen = getattr(c, "gen", 0) + 1 if cid in conns else 1
            c.sent = c.recv = c.pushed = 0
            c.started, c.opened, c.first = time.monotonic(), 0.0, first
            c.chunk, c.topic = None, ("f/" + cid).encode()
            conns[cid] = c
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            c.sock = s
            attempts[cid] = time.monotonic() + A.attempt_timeout
            try:
                if BINDS:
                    s.bind((BINDS[bind_next % len(BINDS)], 0))
                    bind_next += 1
                s.connect_ex((A.host, A.port))
                sel.register(s, selectors.EVENT_WRITE, c)
            except OSError as e:
                attempt_failed(c, "connect:" + str(e.errno))

        def drop(c):
            try:
                sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            try:
                c.sock.close()
            except OSError:
                pass
            c.gen += 1

        def attempt_counted(c):
            global first_done
            attempts.pop(c.cid, None)
            if c.first:
                first_done += 1

        def attempt_failed(c, why):
            attempt_counted(c)
            drop(c)
            c.phase = "closed"
            st["failed"] += 1
            out(("FAIL" if c.first else "REFAIL") + " id=%s why=%s" % (c.cid, why))
            if A.reconnect >= 0:
                queue.append((time.monotonic() + A.reconnect, c.cid, False))

        def opened(c):
            attempt_counted(c)
            c.phase, c.opened = "open", time.monotonic()
            if c.first:
                st["connected"] += 1
            else:
                st["reconnected"] += 1
                out("RECONNECTED id=%s after=%.3f" % (c.cid, c.opened - c.started))
            if A.push and flags["go"]:
                start_push(c)
                if c.phase != "open":
                    return
            delay = A.publish_interval if A.publish_interval > 0 else A.keepalive / 2.0
            schedule.append((time.monotonic() + random.uniform(0, delay), c.cid, c.gen))

        def peer_closed(c, why):
            global lost_closed
            if c.phase == "open":
                st["closed"] += 1
                lost_closed += max(0, c.sent - c.recv) if A.echo else 0
                out("CLOSED id=%s why=%s after=%.3f" % (c.cid, why, time.monotonic() - c.opened))
                drop(c)
                c.phase = "closed"
                if A.reconnect >= 0:
                    queue.append((time.monotonic() + A.reconnect, c.cid, False))
            else:
                attempt_failed(c, why)

        def start_push(c):
            c.chunk = pkt(0x30, mstr("p/" + c.cid) + b"x" * A.push_chunk)
            fill_push(c)
            flush(c)

        def fill_push(c):
            # Not pushing yet (a PINGREQ went out before the go signal): nothing to add.
            if c.chunk is None:
                return
            while c.pushed + len(c.outb) < A.push and len(c.outb) < 4 * A.push_chunk:
                c.outb += c.chunk

        def flush(c):
            if c.outb:
                try:
                    n = c.sock.send(c.outb)
                except BlockingIOError:
                    n = 0
                except OSError:
                    peer_closed(c, "reset")
                    return
                if A.push and c.phase == "open":
                    before = c.pushed
                    c.pushed += n
                    st["pushed"] += n
                    if before < A.push <= c.pushed:
                        st["pushdone"] += 1
                del c.outb[:n]
                if A.push and c.phase == "open":
                    fill_push(c)
            interest(c)

        def send(c, data):
            c.outb += data
            flush(c)

        def handle(c, first, body):
            kind = first >> 4
            if kind == 2 and c.phase == "connack":
                code = body[1] if len(body) > 1 else 255
                if code != 0:
                    attempt_failed(c, "connack:%02x" % code)
                elif A.echo:
                    c.phase = "suback"
                    send(c, pkt(0x82, (1).to_bytes(2, "big") + mstr("f/" + c.cid) + b"\x00"))
                else:
                    opened(c)
            elif kind == 9 and c.phase == "suback":
                opened(c)
            elif kind == 3:
                c.recv += 1
                st["recv"] += 1

        def readable(c):
            try:
                data = c.sock.recv(262144)
            except BlockingIOError:
                return
            except OSError:
                peer_closed(c, "reset")
                return
            if not data:
                peer_closed(c, "eof")
                return
            c.inb += data
            buf = c.inb
            pos = 0
            while len(buf) - pos >= 2:
                n, mult, i = 0, 1, pos + 1
                while i < len(buf) and buf[i] & 0x80:
                    n += (buf[i] & 0x7F) * mult
                    mult *= 128
                    i += 1
                if i >= len(buf):
                    break
                n += buf[i] * mult
                end = i + 1 + n
                if end > len(buf):
                    break
                handle(c, buf[pos], buf[i + 1:end])
                if c.phase == "closed":
                    return
                pos = end
            c.inb = buf[pos:]

        def writable(c):
            if c.phase == "connecting":
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    attempt_failed(c, "connect:" + str(err))
                    return
                c.phase = "connack"
                send(c, connect_pkt(c.cid))
            else:
                flush(c)

        def counts():
            open_ = sum(1 for c in conns.values() if c.phase == "open")
            outstanding = sum(c.sent - c.recv for c in conns.values() if c.phase == "open") if A.echo else 0
            return ("open=%d pending=%d failed=%d closed=%d reconnected=%d churned=%d sent=%d recv=%d "
                    "outstanding=%d lost_closed=%d pushed=%d pushdone=%d t=%.3f" % (
                        open_, len(attempts), st["failed"], st["closed"], st["reconnected"], st["churned"],
                        st["sent"], st["recv"], outstanding, lost_closed, st["pushed"], st["pushdone"],
                        time.monotonic() - T0))

        def tick_schedule(now):
            while schedule and schedule[0][0] <= now:
                due, cid, gen = schedule.popleft()
                c = conns.get(cid)
                if c is None or c.gen != gen or c.phase != "open":
                    continue
                if publishing and A.publish_interval > 0:
                    c.sent += 1
                    st["sent"] += 1
                    payload = (b"%d " % c.sent).ljust(A.payload, b".")
                    send(c, pkt(0x30, mstr("f/" + cid) + payload))
                    schedule.append((now + A.publish_interval, cid, c.gen))
                elif A.publish_interval <= 0:
                    send(c, PINGREQ)
                    schedule.append((now + A.keepalive / 2.0, cid, c.gen))

        def churn(budget):
            victims = [c for c in conns.values() if c.phase == "open"]
            random.shuffle(victims)
            for c in victims[:budget]:
                try:
                    c.sock.send(DISCONNECT)
                except OSError:
                    pass
                drop(c)
                c.phase = "closed"
                st["churned"] += 1
                queue.append((time.monotonic(), c.cid, False))

        for i in range(A.count):
            queue.append((0, A.prefix + str(i), True))
        next_report = T0 + A.report if A.report > 0 else float("inf")
        churn_credit, last_churn = 0.0, time.monotonic()
        finish_at = None
        pushing_started = False
        while True:
            now = time.monotonic()
            if flags["term"]:
                out("FINAL " + counts())
                sys.exit(0)
            if finish_at is None and (flags["finish"] or now - T0 >= A.lifetime):
                publishing = False
                queue.clear()
                finish_at = now + 5
            if finish_at is not None:
                outstanding = sum(c.sent - c.recv for c in conns.values() if c.phase == "open") if A.echo else 0
                if outstanding <= 0 or now >= finish_at:
                    out("FINAL " + counts())
                    for c in list(conns.values()):
                        if c.phase == "open" and not c.outb:
                            try:
                                c.sock.send(DISCONNECT)
                            except OSError:
                                pass
                        drop(c)
                    sys.exit(0)
            while queue and len(attempts) < A.inflight and queue[0][0] <= now:
                _, cid, first = queue.popleft()
                start(cid, first)
            for cid, deadline in list(attempts.items()):
                if deadline <= now:
                    attempt_failed(conns[cid], "timeout")
            if not ready_printed and first_done >= first_total:
                ready_printed = True
                out("READY ok=%d failed=%d elapsed=%.3f" % (st["connected"], st["failed"], now - T0))
            if A.churn > 0 and ready_printed and publishing and now - last_churn >= 1:
                open_ = sum(1 for c in conns.values() if c.phase == "open")
                churn_credit += A.churn * open_ * (now - last_churn) / 60.0
                last_churn = now
                if churn_credit >= 1:
                    churn(int(churn_credit))
                    churn_credit -= int(churn_credit)
            if A.push and flags["go"] and not pushing_started:
                pushing_started = True
                for c in list(conns.values()):
                    if c.phase == "open" and c.chunk is None:
                        start_push(c)
            tick_schedule(now)
            if flags["stats"] or now >= next_report:
                flags["stats"] = False
                if now >= next_report:
                    next_report = now + A.report
                out("STATS " + counts())
            for key, mask in sel.select(timeout=0.02):
                c = key.data
                if c.phase == "closed":
                    continue
                if mask & selectors.EVENT_READ and c.phase != "connecting":
                    readable(c)
                if c.phase != "closed" and mask & selectors.EVENT_WRITE:
                    writable(c)
        # END sessions.py
        """#
}
