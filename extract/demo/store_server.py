"""The demo new store: an HTTP server speaking the FakeStore API on loopback.

Endpoints (GET only, JSON, as https://fakestoreapi.com serves them):
``/products``, ``/products/{id}``, ``/products/categories``, ``/products/category/{name}``,
``/users``, ``/users/{id}``, ``/carts``, ``/carts/{id}``, ``/carts/user/{id}``.

Query parameters, as FakeStore reads them:
- ``limit``: at most this many records (``0`` or absent: all);
- ``sort=asc|desc``: order by id (anything but ``desc`` is ascending, like FakeStore);
- ``startdate`` / ``enddate`` (``YYYY-MM-DD``) on carts: ``startdate <= date < enddate``
  (the end is exclusive, as in FakeStore).

Paging extension: list endpoints also accept ``offset`` (0-based, applied after sorting,
before ``limit``), and every list response carries ``X-Total-Count: <rows matching>``
(before offset and limit). A plain FakeStore server ignores ``offset`` and sends no such
header, which is how a client detects support.

Differences from FakeStore, on purpose: an unknown id or path answers 404 with a JSON body
``{"error": "..."}`` (FakeStore answers 200 with an empty body); a malformed ``limit``,
``offset`` or date answers 400 (FakeStore silently ignores it); other methods answer 405.

HTTP/1.1 with keep-alive, so a client's session reuses its connection. A list of up to
5,000 records (a page) is rendered in one pass straight to JSON text and sent with a
Content-Length; a longer one (an unpaged list at a large scale) is streamed 5,000 records
at a time with chunked transfer encoding (to an HTTP/1.0 client: unframed, then the
connection closes), so memory does not grow with the scale.

Fault injection for tests: ``DemoStore(faults=[Fault(...)])`` or ``store.faults.append``.
For each request, the first fault whose ``path_prefix`` starts the request's path (with its
query) is used once and removed after ``times`` uses. Kinds:
- ``"500"``: HTTP 500 with a JSON error body;
- ``"429"``: HTTP 429, with ``Retry-After: <retry_after>`` when ``retry_after`` is set;
- ``"badjson"``: HTTP 200 whose body is truncated JSON;
- ``"badrecord"``: the normal response, but its first record is malformed: a product's
  ``price`` is the string ``"abc"``, a user or cart has no ``id``, a category is ``null``;
- ``"slow"``: waits ``retry_after`` seconds (default 30) before answering normally.

Changed payloads for tests of schema drift: ``DemoStore(alter={"products": change})``
serves ``change(record)`` in place of each product (``users`` and ``carts`` alike), so a
field can be added, renamed or sent as another type, in lists and single records.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from deltastore.errors import ConfigError
from deltastore.extract.demo.store_data import CATEGORIES, StoreData

log = logging.getLogger(__name__)

FAULT_KINDS = ("500", "429", "badjson", "badrecord", "slow")
DEFAULT_SLOW_SECONDS = 30.0
# Records rendered per pass: a list this long or shorter goes out as one body with a
# Content-Length (the extract client's pages are 5,000); a longer one is streamed in pieces
# of this many records.
RECORDS_PER_WRITE = 5_000


@dataclass(frozen=True)
class Fault:
    """One injected failure for requests whose path (with query) starts with ``path_prefix``."""

    path_prefix: str
    kind: str
    times: int = 1
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind `{self.kind}` is not one of {', '.join(FAULT_KINDS)}")
        if self.times < 1:
            raise ValueError(f"fault times `{self.times}` must be at least 1")


class _HTTPProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Listing:
    """A list answer: which ids, in order, and how to render them."""

    ids: Sequence[int]
    render: Callable[[int], Any]  # one record as a dict (single ids, the 'badrecord' fault)
    render_json: Callable[[Sequence[int]], str]  # many records as comma-separated JSON text
    kind: str


class DemoStore:
    """The demo store server; ``with DemoStore(...) as store`` runs it on a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, scale: float = 1,
                 seed: int = 42, faults: Iterable[Fault] | None = None,
                 alter: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
                 ) -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(f"port `{port}` must be between 0 and 65535 (0 picks a free one)")
        self.data = StoreData(scale, seed)
        self.host = host
        self.port = port
        self.faults: list[Fault] = list(faults or [])
        self.alter = dict(alter or {})  # endpoint -> how each of its records is changed
        self.requests: list[str] = []                    # paths with query, in arrival order
        self.request_log: list[tuple[str, str]] = []     # (method, path with query)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Records served per kind: ``{"products": …, "users": …, "carts": …}``."""
        return dict(self.data.counts)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo store is not started; use `with DemoStore(...)`")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> DemoStore:
        """Bind and serve on a daemon thread; returns self."""
        self._bind()
        assert self._server is not None
        # A short poll interval keeps stop() (and so every test's teardown) quick.
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="demo-store", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any 'slow' fault that is waiting, join the thread."""
        self._stopping.set()
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join()
            self._server.close_connections()
            self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoStore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, announce: Callable[[str], None] | None = None) -> None:
        """Serve in this thread until Ctrl-C, or SIGTERM (which the CLI turns into a
        KeyboardInterrupt: ``workflows.signals``); either is a normal stop."""
        self._bind()
        assert self._server is not None
        if announce is not None:
            announce(self.url)
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            log.info("demo store stopping")
        finally:
            self._stopping.set()
            self._server.close_connections()
            self._server.server_close()
            self._server = None

    def _bind(self) -> None:
        if self._server is not None:
            raise RuntimeError("the demo store is already running")
        self._stopping.clear()
        try:
            self._server = _Server((self.host, self.port), _Handler)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on `{self.host}:{self.port}`: {exc.strerror}; "
                "pick another `--port` (0 picks a free one) or stop the other server"
            ) from None
        self._server.store = self

    def _record_request(self, method: str, path: str) -> Fault | None:
        """Log the request and take the fault that applies to it, if any."""
        with self._lock:
            self.requests.append(path)
            self.request_log.append((method, path))
            for index, fault in enumerate(self.faults):
                if path.startswith(fault.path_prefix):
                    if fault.times > 1:
                        self.faults[index] = replace(fault, times=fault.times - 1)
                    else:
                        del self.faults[index]
                    return fault
        return None

    # -- routing -------------------------------------------------------------------------

    def _answer(self, path: str, query: dict[str, str]) -> Any:
        """A dict (one record), a list of strings (categories) or a ``_Listing``."""
        answer = self._plain_answer(path, query)
        change = self.alter.get(path.strip("/").split("/")[0])
        if change is None or not isinstance(answer, _Listing | dict):
            return answer
        if isinstance(answer, dict):
            return change(answer)
        render = answer.render
        return _Listing(answer.ids, lambda i: change(render(i)),
                        lambda ids: ",".join(json.dumps(change(render(i)), separators=(",", ":"))
                                             for i in ids), answer.kind)

    def _plain_answer(self, path: str, query: dict[str, str]) -> Any:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        data = self.data
        match parts:
            case ["products"]:
                return _Listing(range(1, data.products + 1), data.product, data.products_json,
                                "product")
            case ["products", "categories"]:
                return list(CATEGORIES)
            case ["products", "category", name]:
                return _Listing(data.product_ids_in_category(name), data.product,
                                data.products_json, "product")
            case ["products", ident]:
                return data.product(_known_id(ident, data.products, "product"))
            case ["users"]:
                return _Listing(range(1, data.users + 1), data.user, data.users_json, "user")
            case ["users", ident]:
                return data.user(_known_id(ident, data.users, "user"))
            case ["carts"]:
                start, end = _date(query, "startdate"), _date(query, "enddate")
                return _Listing(data.cart_ids_between(start, end), data.cart, data.carts_json,
                                "cart")
            case ["carts", "user", ident]:
                user_id = _known_id(ident, data.users, "user")
                start, end = _date(query, "startdate"), _date(query, "enddate")
                ids = [i for i in data.cart_ids_of_user(user_id)
                       if (start is None or data.cart_time(i) >= start)
                       and (end is None or data.cart_time(i) < end)]
                return _Listing(ids, data.cart, data.carts_json, "cart")
            case ["carts", ident]:
                return data.cart(_known_id(ident, data.carts, "cart"))
        raise _HTTPProblem(404, f"no such endpoint `{path}`; see the FakeStore API docs")


class _Server(ThreadingHTTPServer):
    """One thread per connection; keeps the open connections so stopping can cut them."""

    daemon_threads = True
    store: DemoStore

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open connection, so a stopped store answers nothing more: an idle
        keep-alive connection's thread would otherwise wait on and serve its next request."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "DeltaStoreDemo/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive: a client's session reuses the connection
    disable_nagle_algorithm = True  # headers and body go out without waiting for ACKs

    def log_message(self, format: str, *args: Any) -> None:  # stdlib's signature
        log.debug("demo store: " + format, *args)

    def handle(self) -> None:
        # ConnectionError: the client went away between requests, or stop() cut the connection.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def do_GET(self) -> None:  # stdlib's name
        store = self.server.store
        fault = store._record_request("GET", self.path)
        try:
            if fault is not None and self._fail(fault):
                return
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            answer = store._answer(split.path, query)
            malformed = fault is not None and fault.kind == "badrecord"
            if isinstance(answer, _Listing):
                self._send_listing(answer, query, malformed)
            elif isinstance(answer, list):
                categories: list[Any] = [None, *answer[1:]] if malformed else answer
                self._send_json(200, categories, {"X-Total-Count": str(len(answer))})
            else:
                self._send_json(200, _malform(answer) if malformed else answer)
        except _HTTPProblem as problem:
            self._send_json(problem.status, {"error": str(problem)})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its read timeout during a 'slow' fault)

    def _refuse(self) -> None:
        self.server.store._record_request(self.command, self.path)
        # The request body is left unread, so this connection cannot carry another request.
        self._send_json(405, {"error": f"`{self.command}` is not supported; the demo store "
                                       "is read-only, use GET"}, {"Connection": "close"})

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    def _fail(self, fault: Fault) -> bool:
        """Act out a fault; True when the response has been sent (not for badrecord/slow)."""
        if fault.kind == "500":
            self._send_json(500, {"error": "injected fault: internal server error"})
        elif fault.kind == "429":
            headers = {} if fault.retry_after is None else {
                "Retry-After": f"{fault.retry_after:g}"}
            self._send_json(429, {"error": "injected fault: too many requests"}, headers)
        elif fault.kind == "badjson":
            self._send_raw(200, b'[{"id": 1, "title": "truncated', "application/json")
        elif fault.kind == "slow":  # wait (stop() cuts it short), then answer normally
            self.server.store._stopping.wait(fault.retry_after or DEFAULT_SLOW_SECONDS)
            return False
        else:  # badrecord is applied while answering
            return False
        return True

    def _send_listing(self, listing: _Listing, query: dict[str, str], malformed: bool) -> None:
        ids = listing.ids
        if query.get("sort") == "desc":
            ids = ids[::-1]
        offset = _non_negative(query, "offset")
        limit = _non_negative(query, "limit")
        page = ids[offset:offset + limit] if limit else ids[offset:]
        headers = {"X-Total-Count": str(len(ids))}
        pieces = _json_array(listing, page, malformed)
        if len(page) <= RECORDS_PER_WRITE:
            body = b"".join(pieces)
            self._send_raw(200, body, "application/json; charset=utf-8", headers)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        chunked = self.request_version == "HTTP/1.1"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:  # HTTP/1.0 has no chunks: the end of the body is the end of the connection
            self.send_header("Connection", "close")
        self.end_headers()
        for piece in pieces:
            self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        self._send_raw(status, payload, "application/json; charset=utf-8", headers)

    def _send_raw(self, status: int, payload: bytes, content_type: str,
                  headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _json_array(listing: _Listing, page: Sequence[int], malformed: bool) -> Iterator[bytes]:
    """The page as a JSON array, in pieces of up to RECORDS_PER_WRITE records."""
    for start in range(0, len(page), RECORDS_PER_WRITE):
        chunk = page[start:start + RECORDS_PER_WRITE]
        if malformed and start == 0:
            bad = json.dumps(_malform(listing.render(chunk[0])), separators=(",", ":"))
            text = ",".join(filter(None, (bad, listing.render_json(chunk[1:]))))
        else:
            text = listing.render_json(chunk)
        yield (("," if start else "[") + text).encode()
    yield b"]" if page else b"[]"


def _malform(record: dict[str, Any]) -> dict[str, Any]:
    """The 'badrecord' fault: a product with a non-numeric price, anything else without id."""
    bad = dict(record)
    if "price" in bad:
        bad["price"] = "abc"
    else:
        bad.pop("id", None)
    return bad


def _known_id(text: str, count: int, kind: str) -> int:
    try:
        ident = int(text)
    except ValueError:
        raise _HTTPProblem(404, f"no {kind} with id `{text}`; ids are whole numbers") from None
    if not 1 <= ident <= count:
        raise _HTTPProblem(404, f"no {kind} with id `{ident}`; ids run from 1 to {count}")
    return ident


def _non_negative(query: dict[str, str], name: str) -> int:
    raw = query.get(name, "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise _HTTPProblem(400, f"`{name}={raw}` must be a whole number of 0 or more")
    return value


def _date(query: dict[str, str], name: str) -> dt.datetime | None:
    """A date (or ISO timestamp) as a naive UTC datetime; None when absent."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise _HTTPProblem(400, f"`{name}={raw}` is not a date; write it as YYYY-MM-DD") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def serve(host: str, port: int, scale: float, seed: int,
          announce: Callable[[str], None] | None = None) -> None:
    """Run the demo store in the foreground until stopped (``deltastore demo-store serve``)."""
    DemoStore(host=host, port=port, scale=scale, seed=seed).serve_forever(announce)
