"""A small threaded HTTP server base shared by the Nexudus and QuickBooks Online simulators.

Each simulator subclasses :class:`SimulatorServer`, registers routes with :meth:`route` and is
started on 127.0.0.1 (an ephemeral port unless one is given) by a test, the demo or a benchmark:

    with NexudusSimulator(world) as sim:
        requests.get(sim.url + "/api/sys/businesses", ...)
"""

import json
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """What a route handler receives."""

    method: str
    path: str
    params: dict  # query string, one value per key (the last one wins)
    multi_params: dict  # query string, every value per key
    headers: dict  # header names lower-cased
    body: bytes
    path_args: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def form(self):
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int = 200
    body: object = None  # dict/list -> JSON; str -> text/html; bytes -> as is
    headers: dict = field(default_factory=dict)


def _json_default(value):
    if isinstance(value, Decimal):
        # QBO and Nexudus both send JSON numbers; Decimal keeps the simulator's own arithmetic exact.
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def json_dumps(payload):
    return json.dumps(payload, default=_json_default)


class SimulatorServer:
    """A real HTTP server on loopback with a regex router; subclasses add routes in ``setup_routes``."""

    host = "127.0.0.1"

    def __init__(self, port=0):
        self._routes = []
        self._port = port
        self._httpd = None
        self._thread = None
        self.lock = threading.RLock()  # handlers run in threads; state changes take this lock
        self.request_log = []  # (method, path, params) of every request, for tests and benchmarks
        self.fault_plan = None  # a simulators.chaos.FaultPlan injecting seeded faults, or None
        self.setup_routes()

    # -- routing -------------------------------------------------------------------------------
    def setup_routes(self):
        raise NotImplementedError

    def route(self, method, pattern, handler):
        """Register ``handler(request) -> Response`` for ``method`` and a path regex (full match)."""
        self._routes.append((method.upper(), re.compile(pattern + r"/?"), handler))

    def dispatch(self, request):
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.fullmatch(request.path)
            if not match:
                continue
            allowed = True
            if method == request.method:
                request.path_args = match.groupdict()
                return handler(request)
        if allowed:
            return Response(405, {"Message": "The requested resource does not support this method."})
        return self.not_found(request)

    def not_found(self, request):
        return Response(404, {"Message": "Not found"})

    # -- life cycle ------------------------------------------------------------------------------
    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle on, a keep-alive client waits ~40 ms per answer
            # for its delayed ACK (a requests.Session made 500 calls take 22 s instead of 1 s).
            disable_nagle_algorithm = True

            def log_message(self, fmt, *args):  # keep test output quiet
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                multi = parse_qs(parts.query, keep_blank_values=True)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command,
                    path=parts.path,
                    params={k: v[-1] for k, v in multi.items()},
                    multi_params=multi,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with server.lock:
                    server.request_log.append((request.method, request.path, dict(request.params)))
                try:
                    plan = server.fault_plan
                    response = plan.serve(server, request, server.dispatch) if plan else server.dispatch(request)
                except Exception as exc:  # noqa: BLE001 - a simulator answers 500 like the real service
                    response = server.internal_error(request, exc)
                if response is None:  # a handler may drop the connection to simulate a lost response
                    self.close_connection = True
                    return
                self._send(response)

            def _send(self, response):
                body = response.body
                headers = dict(response.headers)
                if isinstance(body, (dict, list)):
                    data = json_dumps(body).encode("utf-8")
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                elif isinstance(body, str):
                    data = body.encode("utf-8")
                    headers.setdefault("Content-Type", "text/html; charset=utf-8")
                elif body is None:
                    data = b""
                else:
                    data = body
                self.send_response(response.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._httpd = ThreadingHTTPServer((self.host, self._port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def internal_error(self, request, exc):
        return Response(500, {"Message": "An error has occurred."})
