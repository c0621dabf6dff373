"""The store API client against real HTTP servers on loopback (the demo store and a plain one)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from deltastore.errors import ConfigError, DataError, TransientError
from deltastore.extract.demo.store_server import DemoStore, Fault
from deltastore.extract.sources.store_api import (
    StoreApiClient,
    redact_url,
    retry_after_seconds,
)
from deltastore.retry import RetryPolicy

FAST = RetryPolicy(attempts=3, max_seconds=10, base_delay=0.01, max_delay=0.05)


class Sleeps(list[float]):
    """Records the waits the client asks for (and does not wait: the test stays fast)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(url: str, sleeps: Sleeps | None = None, page_size: int = 1000,
           retry: RetryPolicy = FAST) -> StoreApiClient:
    return StoreApiClient(url, timeout=5, retry=retry, page_size=page_size,
                          sleep=sleeps if sleeps is not None else Sleeps())


@pytest.fixture
def plain_server() -> Iterator[tuple[str, list[str], dict[str, Any], dict[str, str]]]:
    """A FakeStore-like server: honours `limit`, ignores `offset`, sends no total header
    unless the test adds it."""
    seen: list[str] = []
    bodies: dict[str, Any] = {"/products": [{"id": i} for i in range(1, 8)]}
    headers: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (stdlib name)
            seen.append(self.path)
            path, _, query = self.path.partition("?")
            records = bodies[path]
            limit = dict(p.split("=") for p in query.split("&") if p).get("limit")
            if limit and isinstance(records, list):  # honours `limit`, ignores `offset`
                records = records[:int(limit)]
            body = json.dumps(records).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen, bodies, headers
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_pages_through_a_server_with_the_paging_extension() -> None:
    with DemoStore(scale=0.05, seed=42) as store, client(store.url, page_size=3) as api:
        pages = list(api.pages("products"))
        assert [len(p) for p in pages] == [3, 3, 3, 1]
        assert [r["id"] for p in pages for r in p] == list(range(1, 11))
        assert store.requests == [f"/products?limit=3&offset={o}" for o in (0, 3, 6, 9)]


def test_reads_a_server_without_paging_in_one_plain_request(plain_server: Any) -> None:
    url, seen, _, _ = plain_server
    with client(url, page_size=3) as api:
        pages = list(api.pages("products"))
    assert [r["id"] for p in pages for r in p] == list(range(1, 8))
    # A full first answer may have been cut at `limit`: the whole list is read again.
    assert seen == ["/products?limit=3&offset=0", "/products"]


def test_a_short_answer_without_paging_is_already_the_whole_list(plain_server: Any) -> None:
    url, seen, _, _ = plain_server
    with client(url, page_size=100) as api:
        assert [r["id"] for p in api.pages("products") for r in p] == list(range(1, 8))
    assert seen == ["/products?limit=100&offset=0"]


def test_a_server_that_counts_but_ignores_offset_is_read_whole(plain_server: Any) -> None:
    url, seen, bodies, headers = plain_server
    headers["X-Total-Count"] = "7"
    with client(url, page_size=3) as api:
        ids = [r["id"] for p in api.pages("products") for r in p]
    assert ids == list(range(1, 8))  # no record twice, none lost
    assert seen == ["/products?limit=3&offset=0", "/products?limit=3&offset=3", "/products"]


def test_a_500_is_retried_and_the_request_then_succeeds() -> None:
    sleeps = Sleeps()
    with DemoStore(scale=0.01, faults=[Fault("/users", "500", times=1)]) as store, \
            client(store.url, sleeps) as api:
        records = [r for p in api.pages("users") for r in p]
        assert len(records) == 10
        assert store.requests == ["/users?limit=1000&offset=0"] * 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= FAST.base_delay


def test_a_429_waits_at_least_the_retry_after_seconds() -> None:
    sleeps = Sleeps()
    with DemoStore(scale=0.01, faults=[Fault("/carts", "429", retry_after=2)]) as store, \
            client(store.url, sleeps) as api:
        assert sum(len(p) for p in api.pages("carts")) == 100
    assert sleeps and sleeps[0] >= 2


def test_a_read_timeout_is_retried() -> None:
    sleeps = Sleeps()
    with DemoStore(scale=0.01, faults=[Fault("/users", "slow", retry_after=5)]) as store:
        api = StoreApiClient(store.url, timeout=0.3, retry=FAST, sleep=sleeps)
        with api:
            assert sum(len(p) for p in api.pages("users")) == 10
        assert store.requests == ["/users?limit=5000&offset=0"] * 2
    assert len(sleeps) == 1


def test_gives_up_after_the_attempts_and_names_endpoint_and_status() -> None:
    with DemoStore(scale=0.01, faults=[Fault("/products", "500", times=9)]) as store, \
            client(store.url) as api:
        with pytest.raises(TransientError, match=r"`GET /products` failed after 3 attempt.*"
                                                 r"HTTP `500`"):
            list(api.pages("products"))
        assert len(store.requests) == 3


def test_gives_up_early_when_retry_after_exceeds_the_time_budget() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=5, max_seconds=1, base_delay=0.01)
    with DemoStore(scale=0.01, faults=[Fault("/products", "429", retry_after=60)]) as store, \
            client(store.url, sleeps, retry=policy) as api:
        with pytest.raises(TransientError, match="retry budget"):
            list(api.pages("products"))
        assert len(store.requests) == 1
    assert sleeps == []


def test_connection_refused_is_transient_after_retries(closed_port: int) -> None:
    sleeps = Sleeps()
    with client(f"http://127.0.0.1:{closed_port}", sleeps) as api, \
            pytest.raises(TransientError, match=r"after 3 attempt\(s\).*last: ConnectionError: "
                                                r"\[Errno \d+\] Connection refused\. Check"):
        list(api.pages("products"))
    assert len(sleeps) == 2


def test_a_body_that_is_never_json_is_a_data_error_after_the_retries() -> None:
    sleeps = Sleeps()
    with DemoStore(scale=0.01, faults=[Fault("/carts", "badjson", times=10)]) as store, \
            client(store.url, sleeps) as api, \
            pytest.raises(DataError, match=r"`/carts` did not return JSON .* in 3 attempt"):
        list(api.pages("carts"))
    assert len(sleeps) == 2


def test_a_body_cut_short_once_is_retried_like_a_5xx() -> None:
    sleeps = Sleeps()
    with DemoStore(scale=0.01, faults=[Fault("/carts", "badjson")]) as store, \
            client(store.url, sleeps) as api:
        carts = [c for page in api.pages("carts") for c in page]
        assert len(carts) == store.counts["carts"]
    assert len(sleeps) == 1


def test_a_body_that_is_not_an_array_of_objects_is_a_data_error(plain_server: Any) -> None:
    url, _, bodies, _ = plain_server
    bodies["/products"] = {"products": []}
    with client(url) as api, pytest.raises(DataError, match="not return a JSON array of objects"):
        list(api.pages("products"))


def test_an_unknown_endpoint_is_a_configuration_error() -> None:
    with DemoStore(scale=0.01) as store, client(store.url) as api, \
            pytest.raises(ConfigError, match="HTTP `404`.*DELTASTORE_STORE_API_URL"):
        list(api.pages("orders"))


def test_backoff_is_full_jitter_growing_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3)
    highest = [policy.backoff(n, rng=lambda low, high: high) for n in range(1, 6)]
    lowest = [policy.backoff(n, rng=lambda low, high: low) for n in range(1, 6)]
    assert highest == [0.5, 1.0, 2.0, 3, 3]
    assert lowest == [0.0] * 5


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("soon") is None


def test_a_password_in_the_api_url_never_reaches_a_message(closed_port: int) -> None:
    assert redact_url("https://shop:s3cret@api.example.test:8443/v1") == \
        "https://shop:***@api.example.test:8443/v1"
    assert redact_url("http://127.0.0.1:8765") == "http://127.0.0.1:8765"
    with client(f"http://shop:s3cret@127.0.0.1:{closed_port}") as api, \
            pytest.raises(TransientError) as caught:
        list(api.pages("products"))
    assert "s3cret" not in str(caught.value)
