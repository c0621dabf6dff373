"""The demo store over real loopback HTTP: endpoints, shapes, paging, dates, faults."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import socket
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from deltastore.errors import ConfigError
from deltastore.extract.demo import DEMO_END_DATE, DEMO_START_DATE, store_server
from deltastore.extract.demo.store_data import (
    CATEGORIES,
    Shuffle,
    StoreData,
    cart,
    counts,
    format_timestamp,
    product,
    user,
)
from deltastore.extract.demo.store_server import DemoStore, Fault

SCALE = 0.05  # 10 products, 50 users, 500 carts
SEED = 42
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$")


@pytest.fixture(scope="module")
def store() -> Iterator[DemoStore]:
    with DemoStore(scale=SCALE, seed=SEED) as running:
        yield running


@pytest.fixture(scope="module")
def all_carts(store: DemoStore) -> list[dict]:
    return get(store, "/carts").json()


def get(store: DemoStore, path: str) -> requests.Response:
    return requests.get(store.url + path, timeout=10)


def cart_time(record: dict) -> dt.datetime:
    return dt.datetime.strptime(record["date"], "%Y-%m-%dT%H:%M:%S.000Z")


def test_counts_follow_scale() -> None:
    assert counts(1) == {"products": 200, "users": 1000, "carts": 10000}
    assert counts(100)["carts"] == 1_000_000
    assert counts(0.01) == {"products": 4, "users": 10, "carts": 100}
    with pytest.raises(ConfigError, match="scale `0`"):
        counts(0)


def test_products_have_fakestore_shape(store: DemoStore) -> None:
    response = get(store, "/products")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    products = response.json()
    assert store.counts == counts(SCALE)
    assert [p["id"] for p in products] == list(range(1, counts(SCALE)["products"] + 1))
    assert response.headers["X-Total-Count"] == str(len(products))
    for p in products:
        assert set(p) == {"id", "title", "price", "description", "category", "image", "rating"}
        assert isinstance(p["price"], float) and p["price"] > 0
        assert p["category"] in CATEGORIES
        assert set(p["rating"]) == {"rate", "count"}
        assert 1 <= p["rating"]["rate"] <= 5 and isinstance(p["rating"]["count"], int)
    assert {p["category"] for p in products} == set(CATEGORIES)


def test_users_have_fakestore_shape(store: DemoStore) -> None:
    users = get(store, "/users").json()
    assert len(users) == counts(SCALE)["users"]
    for u in users:
        assert set(u) == {"id", "email", "username", "password", "name", "address", "phone",
                          "__v"}
        assert set(u["name"]) == {"firstname", "lastname"}
        assert set(u["address"]) == {"city", "street", "number", "zipcode", "geolocation"}
        assert isinstance(u["address"]["number"], int)
        geo = u["address"]["geolocation"]
        assert isinstance(geo["lat"], str) and isinstance(geo["long"], str)
        assert -90 <= float(geo["lat"]) <= 90 and -180 <= float(geo["long"]) <= 180
        assert "@" in u["email"]
    assert len({u["email"] for u in users}) == len(users)


def test_carts_have_fakestore_shape_and_valid_references(all_carts: list[dict]) -> None:
    n = counts(SCALE)
    assert [c["id"] for c in all_carts] == list(range(1, n["carts"] + 1))
    for c in all_carts:
        assert set(c) == {"id", "userId", "date", "products", "__v"}
        assert TIMESTAMP.match(c["date"]), c["date"]
        assert 1 <= c["userId"] <= n["users"]
        ids = [line["productId"] for line in c["products"]]
        assert 1 <= len(ids) <= 4 and len(set(ids)) == len(ids)
        assert all(1 <= i <= n["products"] for i in ids)
        assert all(1 <= line["quantity"] <= 5 for line in c["products"])
    times = [cart_time(c) for c in all_carts]
    assert times == sorted(times)
    assert times[0].date() == DEMO_START_DATE and times[-1].date() == DEMO_END_DATE
    # Spread over the whole year, not bunched: every month has carts.
    assert {t.month for t in times} == set(range(1, 13))


def test_single_record_endpoints_match_lists_and_pure_functions(
        store: DemoStore, all_carts: list[dict]) -> None:
    assert get(store, "/products/3").json() == product(3, SEED)
    assert get(store, "/users/7").json() == user(7, SEED)
    assert get(store, "/carts/123").json() == all_carts[122] == cart(123, SEED, SCALE)


def test_listings_are_the_pure_functions_records(
        store: DemoStore, all_carts: list[dict]) -> None:
    # Lists are rendered straight to JSON text; single records and the pure functions go
    # through dicts. Both must give the same records.
    n = counts(SCALE)
    assert all_carts == [cart(i, SEED, SCALE) for i in range(1, n["carts"] + 1)]
    assert get(store, "/users").json() == [user(i, SEED) for i in range(1, n["users"] + 1)]
    assert get(store, "/products").json() == [product(i, SEED)
                                              for i in range(1, n["products"] + 1)]
    data = StoreData(SCALE, SEED)
    assert data.carts_json(range(1, 51)) == ",".join(
        json.dumps(cart(i, SEED, SCALE), separators=(",", ":")) for i in range(1, 51))
    assert all(data.cart(i)["date"] == format_timestamp(data.cart_time(i))
               for i in range(1, n["carts"] + 1))


def test_carts_at_the_smallest_catalogue_stay_valid() -> None:
    # Scale 0.01 has 4 products: a 4-product cart must hold each of them exactly once.
    data = StoreData(0.01, SEED)
    carts = [data.cart(i) for i in range(1, data.carts + 1)]
    sizes = Counter(len(c["products"]) for c in carts)
    assert set(sizes) == {1, 2, 3, 4}
    for c in carts:
        ids = [line["productId"] for line in c["products"]]
        assert len(set(ids)) == len(ids) and set(ids) <= {1, 2, 3, 4}
    quantities = Counter(line["quantity"] for c in carts for line in c["products"])
    assert set(quantities) == {1, 2, 3, 4, 5}


def test_categories_and_category_listing(store: DemoStore) -> None:
    assert get(store, "/products/categories").json() == list(CATEGORIES)
    products = get(store, "/products").json()
    response = get(store, "/products/category/men's clothing")
    expected = [p for p in products if p["category"] == "men's clothing"]
    assert response.json() == expected and expected
    assert response.headers["X-Total-Count"] == str(len(expected))
    assert get(store, "/products/category/toys").json() == []


def test_limit_sort_and_offset_paging(store: DemoStore, all_carts: list[dict]) -> None:
    assert [c["id"] for c in get(store, "/carts?limit=3").json()] == [1, 2, 3]
    desc = get(store, "/carts?sort=desc&limit=2")
    assert [c["id"] for c in desc.json()] == [500, 499]
    assert desc.headers["X-Total-Count"] == "500"
    pages: list[dict] = []
    for offset in range(0, 500, 70):
        page = get(store, f"/carts?limit=70&offset={offset}")
        assert page.headers["X-Total-Count"] == "500"
        pages += page.json()
    assert pages == all_carts
    assert get(store, "/carts?limit=70&offset=500").json() == []
    assert get(store, "/users?offset=49").json() == [user(50, SEED)]
    assert get(store, "/carts?limit=0").json() == all_carts  # 0 means all, as in FakeStore


def test_date_window_is_start_inclusive_end_exclusive(
        store: DemoStore, all_carts: list[dict]) -> None:
    start, end = dt.datetime(2025, 3, 1), dt.datetime(2025, 4, 1)
    response = get(store, "/carts?startdate=2025-03-01&enddate=2025-04-01")
    expected = [c for c in all_carts if start <= cart_time(c) < end]
    assert response.json() == expected and expected
    assert response.headers["X-Total-Count"] == str(len(expected))
    only_end = get(store, "/carts?enddate=2025-02-01").json()
    assert only_end == [c for c in all_carts if cart_time(c) < dt.datetime(2025, 2, 1)]
    assert get(store, "/carts?startdate=2026-01-01").json() == []
    window = get(store, "/carts?startdate=2025-06-01&enddate=2025-07-01&sort=desc&limit=2")
    assert [cart_time(c).month for c in window.json()] == [6, 6]
    assert window.json()[0]["id"] > window.json()[1]["id"]


def test_carts_of_a_user_match_carts_list(store: DemoStore, all_carts: list[dict]) -> None:
    seen = 0
    for user_id in range(1, counts(SCALE)["users"] + 1):
        response = get(store, f"/carts/user/{user_id}")
        expected = [c for c in all_carts if c["userId"] == user_id]
        assert response.json() == expected
        assert response.headers["X-Total-Count"] == str(len(expected))
        seen += len(expected)
    assert seen == len(all_carts)
    windowed = get(store, "/carts/user/5?startdate=2025-07-01&enddate=2025-12-01").json()
    assert windowed == [c for c in all_carts if c["userId"] == 5
                        and dt.datetime(2025, 7, 1) <= cart_time(c) < dt.datetime(2025, 12, 1)]


@pytest.mark.parametrize("path, status", [
    ("/products/999", 404), ("/users/0", 404), ("/carts/abc", 404), ("/carts/user/51", 404),
    ("/orders", 404), ("/carts?limit=abc", 400), ("/carts?offset=-1", 400),
    ("/carts?startdate=March", 400),
])
def test_bad_requests_get_a_json_error(store: DemoStore, path: str, status: int) -> None:
    response = get(store, path)
    assert response.status_code == status
    assert "`" in response.json()["error"]


def test_writes_are_refused(store: DemoStore) -> None:
    response = requests.post(store.url + "/products", json={}, timeout=10)
    assert response.status_code == 405
    # Its body was not read, so the connection is not reused for another request.
    assert response.headers["Connection"] == "close"


def test_keep_alive_serves_many_requests_on_one_connection(store: DemoStore) -> None:
    host, port = store.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        sockets = []
        for path in ("/products/1", "/carts?limit=3&offset=2", "/carts/999999", "/users"):
            connection.request("GET", path)
            response = connection.getresponse()
            body = json.loads(response.read())
            assert not response.will_close, path
            sockets.append(connection.sock)
        assert body == get(store, "/users").json()
        assert len(set(map(id, sockets))) == 1
    finally:
        connection.close()


def test_long_lists_stream_in_chunks(
        monkeypatch: pytest.MonkeyPatch, store: DemoStore, all_carts: list[dict]) -> None:
    monkeypatch.setattr(store_server, "RECORDS_PER_WRITE", 64)  # 500 carts: 8 pieces
    response = get(store, "/carts")
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert response.json() == all_carts
    assert response.headers["X-Total-Count"] == "500"
    assert get(store, "/carts?limit=64").headers["Content-Length"]  # a page: one body
    # HTTP/1.0 knows no chunks: the body is unframed and the connection closes after it.
    host, port = store.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"GET /carts?sort=desc HTTP/1.0\r\n\r\n")
        received = b""
        while chunk := raw.recv(1 << 16):
            received += chunk
    head, body = received.split(b"\r\n\r\n", 1)
    assert b"Connection: close" in head and b"chunked" not in head
    assert json.loads(body) == all_carts[::-1]
    with DemoStore(scale=SCALE, seed=SEED, faults=[Fault("/carts", "badrecord")]) as faulty:
        carts = get(faulty, "/carts").json()
    assert "id" not in carts[0] and carts[1:] == all_carts[1:]


def test_stopping_cuts_idle_keep_alive_connections() -> None:
    with requests.Session() as session:
        with DemoStore(scale=SCALE, seed=SEED) as short_lived:
            url = short_lived.url
            assert session.get(url + "/products/1", timeout=10).status_code == 200
        # The session's connection stayed open; a stopped store must not answer on it.
        with pytest.raises(requests.ConnectionError):
            session.get(url + "/products/1", timeout=10)


def test_same_seed_same_data_other_seed_other_data(all_carts: list[dict]) -> None:
    with DemoStore(scale=SCALE, seed=SEED) as again, DemoStore(scale=SCALE, seed=7) as other:
        assert get(again, "/carts").json() == all_carts
        assert get(again, "/users").json() == get(again, "/users").json()
        assert get(other, "/carts").json() != all_carts
        assert get(other, "/products/1").json() != product(1, SEED)
    # Record i does not depend on anything but (seed, i): a bigger scale keeps products.
    assert StoreData(1, SEED).product(3) == product(3, SEED)


def test_fault_500_then_normal(store: DemoStore) -> None:
    with DemoStore(scale=SCALE, faults=[Fault("/products", "500", times=2)]) as faulty:
        assert get(faulty, "/users/1").status_code == 200  # prefix does not match
        assert get(faulty, "/products?limit=1").status_code == 500
        assert get(faulty, "/products/1").status_code == 500
        assert get(faulty, "/products/1").status_code == 200
        assert faulty.faults == []
        assert faulty.requests == ["/users/1", "/products?limit=1", "/products/1",
                                   "/products/1"]
        assert faulty.request_log[0] == ("GET", "/users/1")


def test_fault_429_sends_retry_after() -> None:
    with DemoStore(scale=SCALE, faults=[Fault("/carts", "429", retry_after=2)]) as faulty:
        faulty.faults.append(Fault("/carts", "429"))
        first = get(faulty, "/carts?limit=1")
        assert first.status_code == 429 and first.headers["Retry-After"] == "2"
        second = get(faulty, "/carts?limit=1")
        assert second.status_code == 429 and "Retry-After" not in second.headers
        assert get(faulty, "/carts?limit=1").status_code == 200


def test_fault_badjson_is_not_json() -> None:
    with DemoStore(scale=SCALE, faults=[Fault("/users", "badjson")]) as faulty:
        response = get(faulty, "/users")
        assert response.status_code == 200
        with pytest.raises(requests.JSONDecodeError):
            response.json()
        assert len(get(faulty, "/users").json()) == counts(SCALE)["users"]


def test_fault_badrecord_breaks_exactly_one_record() -> None:
    faults = [Fault("/products", "badrecord"), Fault("/carts", "badrecord"),
              Fault("/users/2", "badrecord")]
    with DemoStore(scale=SCALE, seed=SEED, faults=faults) as faulty:
        products = get(faulty, "/products").json()
        assert products[0]["price"] == "abc"
        assert products[1:] == [product(i, SEED) for i in range(2, len(products) + 1)]
        carts = get(faulty, "/carts?limit=3").json()
        assert "id" not in carts[0] and all("id" in c for c in carts[1:])
        assert "id" not in get(faulty, "/users/2").json()
        assert get(faulty, "/users/2").json() == user(2, SEED)


def test_fault_slow_outlasts_a_read_timeout() -> None:
    with DemoStore(scale=SCALE, faults=[Fault("/users/1", "slow", retry_after=5)]) as faulty:
        with pytest.raises(requests.ReadTimeout):
            requests.get(faulty.url + "/users/1", timeout=0.3)
        assert get(faulty, "/users/1").json() == user(1, SEED)
        assert faulty.requests == ["/users/1", "/users/1"]
    # Leaving the with-block did not wait for the sleeping handler.


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="`404`"):
        Fault("/products", "404")


def test_busy_port_is_a_config_error(store: DemoStore) -> None:
    port = int(store.url.rsplit(":", 1)[1])
    with pytest.raises(ConfigError, match="pick another `--port`"):
        DemoStore(port=port, scale=SCALE).start()


def test_stopped_store_frees_its_port() -> None:
    with DemoStore(scale=SCALE) as first:
        port = int(first.url.rsplit(":", 1)[1])
    with DemoStore(port=port, scale=SCALE) as second:
        assert get(second, "/products/1").status_code == 200


@pytest.mark.parametrize("n", [1, 2, 3, 255, 256, 10_000, 12_345])
def test_cart_owners_come_from_a_bijection_and_its_inverse(n: int) -> None:
    """Every cart has one owner and a user's carts are found without a scan: the shuffle
    is a bijection of [0, n) and `inverse` undoes it."""
    shuffle = Shuffle(n, seed=42)
    image = [shuffle.forward(x) for x in range(n)]
    assert sorted(image) == list(range(n))
    assert [shuffle.inverse(y) for y in image] == list(range(n))


def test_a_users_carts_fall_at_irregular_moments() -> None:
    """An affine bijection gave every user the same rhythm (one cart per `users` carts),
    which drew stripes into the cohort chart; shuffled, the gaps between a user's carts
    vary as shoppers' do."""
    data = StoreData(scale=1)
    gaps = Counter()
    for user_id in range(1, 101):
        ids = data.cart_ids_of_user(user_id)
        gaps.update(b - a for a, b in zip(ids, ids[1:], strict=False))
    assert len(gaps) > 500  # hardly any two gaps alike
