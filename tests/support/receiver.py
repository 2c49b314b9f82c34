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
    """`answers` are the status codes to give, in turn (then 200); `delay` seconds before each."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
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
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code if ok else 400)
                self.end_headers()

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
