"""HTTP client for a FakeStore-compatible store API.

Retries connection errors, timeouts, 5xx, 429 and 2xx bodies that are not JSON with the
pipeline's one backoff policy (``deltastore/retry.py``: exponential, full jitter), honouring
``Retry-After``; bounded both in attempts and in total seconds, after which it raises
``TransientError`` (exit 1, Argo retries the step). Uses the paging extension
(``limit``/``offset`` answered with ``X-Total-Count``) when the server has it, otherwise
reads each endpoint whole in one request, so it also works against fakestoreapi.com.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests

from deltastore.errors import ConfigError, DataError, TransientError
from deltastore.retry import RetriesExhausted, RetryPolicy, call_with_retries

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 5000
TOTAL_HEADER = "X-Total-Count"
_RETRY_STATUS_FLOOR = 500
_CONNECT_TIMEOUT_CAP = 10.0
_OS_ERROR = re.compile(r"\[Errno -?\d+\][^'\")]*")  # e.g. `[Errno 111] Connection refused`
_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class StoreApiClient:
    """Reads whole endpoints (``products``, ``users``, ``carts``) page by page."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.shown_url = redact_url(self.base_url)
        self.timeout = (min(_CONNECT_TIMEOUT_CAP, timeout), timeout)
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.session = session or requests.Session()
        self.session.headers.setdefault("Accept", "application/json")
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        self.session.close()

    def clone(self) -> StoreApiClient:
        """The same client with an HTTP session of its own, for another thread (a requests
        Session is not meant to be shared between threads)."""
        twin = StoreApiClient(self.base_url, timeout=self.timeout[1], retry=self.retry,
                              page_size=self.page_size, sleep=self._sleep, clock=self._clock)
        twin.session.headers.update(self.session.headers)
        return twin

    def __enter__(self) -> StoreApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pages(self, endpoint: str, decoder: PageDecoder | None = None) -> Iterator[Any]:
        """Yield the endpoint's records a page at a time (one page if the server can't page),
        each in ``decoder``'s form (by default a list of dicts)."""
        decoder = decoder or JsonDecoder()
        response, page = self.get_page(endpoint, {"limit": self.page_size, "offset": 0},
                                       decoder)
        total = _total_count(response, endpoint)
        if total is None:
            # No paging extension. A shorter answer than `limit` is the whole list (whether
            # or not the server honoured `limit`); a full one may have been cut short.
            whole = (page if page.count < self.page_size
                     else self.get_page(endpoint, None, decoder)[1])
            yield whole.records
            return
        first = page.first
        offset = page.count
        yield page.records
        while offset < total:
            page = self.get_page(endpoint, {"limit": self.page_size, "offset": offset},
                                 decoder)[1]
            if page.count and page.first == first:
                # The server counts but ignores `offset`: read the list whole, once, and
                # hand on what was not yet read (same order: the first page matched).
                log.warning("store API /%s ignores `offset`; reading it in one request",
                            endpoint)
                whole = self.get_page(endpoint, None, decoder)[1]
                yield decoder.skip(whole.records, offset)
                return
            if not page.count:
                raise DataError(
                    f"store API `/{endpoint}` announced {TOTAL_HEADER} `{total}` but returned "
                    f"an empty page at offset `{offset}`; the server's paging is inconsistent"
                )
            offset += page.count
            yield page.records

    def get_page(self, endpoint: str, params: dict[str, int] | None,
                 decoder: PageDecoder | None = None) -> tuple[requests.Response, Page]:
        """GET with retries; returns a 2xx response and its body decoded as a page.

        A 2xx whose body is not JSON (cut short by a proxy, a gateway's error page) is
        retried like a 5xx; only when every attempt got one is it a data error (exit 3);
        a mix of failures ends as a transient error (exit 1).
        """
        url = f"{self.base_url}/{endpoint}"
        decode = (decoder or JsonDecoder()).decode
        bad_bodies = 0

        def attempt() -> tuple[requests.Response, Page]:
            nonlocal bad_bodies
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except _NETWORK_ERRORS as exc:
                raise _Unanswered(f"{type(exc).__name__}: {_short(exc)}") from None
            except requests.RequestException as exc:  # bad URL, redirect loop: not transient
                raise ConfigError(
                    f"store API `GET /{endpoint}` cannot be sent ({type(exc).__name__}); check "
                    f"DELTASTORE_STORE_API_URL (`{self.shown_url}`)"
                ) from None
            status = response.status_code
            if status == 429 or status >= _RETRY_STATUS_FLOOR:
                asked = (retry_after_seconds(response.headers.get("Retry-After"))
                         if status == 429 else None)
                raise _Unanswered(f"HTTP `{status}`", asked)
            if status >= 400:
                raise ConfigError(
                    f"store API `GET /{endpoint}` answered HTTP `{status}`; check "
                    f"DELTASTORE_STORE_API_URL (`{self.shown_url}`) points at a "
                    "FakeStore-compatible API"
                )
            try:
                return response, decode(endpoint, response.content)
            except BadBody:
                bad_bodies += 1
                raise

        try:
            return call_with_retries(
                attempt, what=f"store API `GET /{endpoint}`", policy=self.retry,
                retryable=lambda exc: isinstance(exc, (_Unanswered, BadBody)),
                at_least=lambda exc: getattr(exc, "retry_after", None),
                hint=f"Check that `{self.shown_url}` is up (or raise DELTASTORE_HTTP_RETRIES / "
                     "DELTASTORE_HTTP_RETRY_SECONDS) and rerun",
                sleep=self._sleep, clock=self._clock)
        except RetriesExhausted as exc:
            if exc.attempts == self.retry.attempts and bad_bodies == exc.attempts:
                # Every answer was garbage: not an outage, a broken server or URL.
                raise DataError(f"{exc.last} in {exc.attempts} attempt(s); the server is "
                                "broken or the URL is wrong") from None
            raise


class _Unanswered(TransientError):
    """No usable answer (network error, 5xx, 429); ``retry_after`` is what the server asked
    to wait, if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadBody(DataError):
    """A 2xx body that is not JSON: retried, then a DataError."""


@dataclass(frozen=True)
class Page:
    """One decoded answer: its number of records, its first record (in a form that compares
    equal for the same record, to spot a server that ignores ``offset``), and the records
    in the decoder's own form."""

    count: int
    first: object
    records: Any


class PageDecoder(Protocol):
    """Turns a 2xx body into a ``Page``; raises ``BadBody`` for text that is not JSON (the
    client retries it) and ``DataError`` for JSON that is not an array of objects."""

    def decode(self, endpoint: str, body: bytes) -> Page: ...

    def skip(self, records: Any, count: int) -> Any:
        """``records`` without their first ``count``."""
        ...


class JsonDecoder:
    """Python's json: each page becomes a list of dicts."""

    def decode(self, endpoint: str, body: bytes) -> Page:
        try:
            records = json.loads(body)
        except ValueError as exc:
            raise BadBody(
                f"store API `/{endpoint}` did not return JSON ({exc.__class__.__name__} at "
                f"byte {getattr(exc, 'pos', '?')})"
            ) from None
        if not isinstance(records, list) or not all(type(r) is dict for r in records):
            raise not_records(endpoint, type(records).__name__)
        return Page(len(records), records[0] if records else None, records)

    def skip(self, records: Any, count: int) -> Any:
        return records[count:]


def not_records(endpoint: str, got: str) -> DataError:
    return DataError(
        f"store API `/{endpoint}` did not return a JSON array of objects (got {got}); the "
        "server does not speak the FakeStore dialect"
    )


def redact_url(url: str) -> str:
    """The URL without a password in it, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _total_count(response: requests.Response, endpoint: str) -> int | None:
    raw = response.headers.get(TOTAL_HEADER)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise DataError(
            f"store API `/{endpoint}` sent {TOTAL_HEADER} `{raw}`, which is not a number"
        ) from None


def _short(exc: Exception) -> str:
    """The useful part of a requests error (they nest urllib3 reprs several levels deep)."""
    text = str(exc)
    cause = _OS_ERROR.search(text)
    if cause:
        return cause.group(0).strip()
    return text if len(text) <= 160 else text[:160] + "…"
