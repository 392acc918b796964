"""HTTP plumbing: a threading server on 127.0.0.1 whose handler hands every request to the fake."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.fake_messages_api.fake import FakeMessagesAPI


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once
    fake: FakeMessagesAPI

    def process_request(self, request, client_address):
        self.fake._track(request, add=True)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.fake._track(request, add=False)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):  # quiet about clients that hung up
        pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeMessagesAPI/1.0"
    disable_nagle_algorithm = True  # else headers and body in two writes cost ~40 ms a response
    server: Server

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        record, reply = self.server.fake._handle(self.command, self.path, headers, raw)
        # Stamped before the first byte goes out, so the client cannot have the answer (and send its
        # next request) earlier than `answered` says: calls made one after the other never overlap.
        record.answered = time.monotonic()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:  # the client timed out and hung up while we were "thinking"
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve
