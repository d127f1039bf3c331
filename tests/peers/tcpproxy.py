"""A TCP proxy to put between the portal and a peer (the vCenter simulator), and make the network
misbehave on cue: slow every chunk down, stop forwarding (the peer seems to hang), or reset every
connection and refuse new ones (the peer went away). It can also just put the peer some distance
away: a round trip on every request (bench/discovery.py).

It forwards bytes, whatever they carry (TLS included), so the client sees exactly what a bad network
would show it. `with TcpProxy("127.0.0.1", port) as proxy:` listens on `proxy.port`.
"""

import socket
import struct
import threading
import time


class TcpProxy:
    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.delay = 0.0
        self.round_trip = 0.0
        self.refusing = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        self.connections = 0  # accepted so far: a client that gave up and came back shows here

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True, name=f"tcpproxy-{self.port}").start()
        return self

    def __exit__(self, *exc):
        self.close()

    # --- what the test does ---------------------------------------------------------------------

    def slow(self, seconds: float):
        """Hold every chunk `seconds` before passing it on, both ways."""
        self.delay = seconds

    def away(self, seconds: float):
        """Put the peer a network round trip of `seconds` away: each time the client speaks after
        the peer did (a new request, whatever TLS makes of it), its first bytes wait `seconds`.
        Unlike slow(), a large answer in many chunks pays it once, as on a real network."""
        self.round_trip = seconds

    def pause(self):
        """Stop forwarding: connections stay open and silent, as a hung peer's do."""
        self._flowing.clear()

    def drop(self, *, refuse: bool = True):
        """Reset every open connection; with `refuse`, reset new ones as soon as they arrive."""
        self.refusing = refuse
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            _reset(sock)

    def heal(self):
        """Back to a good network (open connections that were dropped stay dropped)."""
        self.delay = 0.0
        self.round_trip = 0.0
        self.refusing = False
        self._flowing.set()

    def close(self):
        self._closed = True
        self._flowing.set()
        self.listener.close()
        self.drop()

    # --- the plumbing ---------------------------------------------------------------------------

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):  # pass each chunk on at once, as the two ends sent it (no Nagle)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connections += 1
            with self._lock:
                self._sockets.update((client, upstream))
            turn = {"client": False}  # who spoke last on this connection
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, turn, src is client), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, turn: dict, from_client: bool):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while not self._flowing.wait(0.1):
                    if src not in self._sockets:
                        return
                if self.delay:
                    time.sleep(self.delay)
                if from_client and self.round_trip and not turn["client"]:
                    time.sleep(self.round_trip)
                turn["client"] = from_client
                if src not in self._sockets:
                    return  # dropped while held back: the bytes die with the connection
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(src)
                self._sockets.discard(dst)
            for sock in (src, dst):
                _close(sock)


def _reset(sock: socket.socket):
    """Close with a TCP reset, not a polite FIN: the peer sees 'connection reset'."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)  # wakes the pump blocked on it, sends nothing
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _close(sock: socket.socket):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
