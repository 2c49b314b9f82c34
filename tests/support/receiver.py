"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that verifies our signature,
as a customer's server would, and answers as the test tells it."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from api.signing import SIGNATURE_HEADER, SignatureError, verify


@dataclass
class Received:
    headers: dict
    body: bytes
    signature_ok: bool

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """`answers` are the status codes to give, in turn (then 200); `delay` seconds before each;
    `trickle` seconds of an answer sent a byte every 0.1 s (the status line, then a header)."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    trickle: float = 0.0
    received: list[Received] = field(default_factory=list)

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    verify(receiver.secret, self.headers.get(SIGNATURE_HEADER, ""), body)
                    ok = True
                except SignatureError:
                    ok = False
                receiver.received.append(Received(dict(self.headers), body, ok))
                time.sleep(receiver.delay)
                if receiver.trickle:
                    self._trickle(receiver.trickle)
                    return
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code if ok else 400)
                self.end_headers()

            def _trickle(self, seconds: float) -> None:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                ends = time.monotonic() + seconds
                try:
                    while time.monotonic() < ends:
                        self.wfile.write(b"z")
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:
                    pass  # the client hung up: what the test wants

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    @property
    def types(self) -> list[str]:
        return [item.event["type"] for item in self.received]
