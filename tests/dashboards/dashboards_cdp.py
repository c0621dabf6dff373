"""Drive headless Chromium over the Chrome DevTools Protocol through a pipe.

``--remote-debugging-pipe`` makes Chromium read commands on fd 3 and write replies and
events on fd 4 (JSON messages ending in NUL). No port is opened and no extra package is
needed. The page gets no network: every request goes to a dead proxy, and the tests fail on
any request that is not ``file:`` or ``data:``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 30.0
LOCAL_SCHEMES = ("file:", "data:", "about:")


def find_chromium() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


class CDPError(RuntimeError):
    pass


@dataclass
class PageReport:
    """What happened while a page loaded: problems and every URL it requested."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    requested_urls: list[str] = field(default_factory=list)

    @property
    def remote_requests(self) -> list[str]:
        return [u for u in self.requested_urls if not u.startswith(LOCAL_SCHEMES)]

    def problems(self) -> list[str]:
        return (self.console_errors + self.exceptions + self.log_errors + self.failed_requests
                + [f"network request to {u}" for u in self.remote_requests])


class Browser:
    """One headless Chromium for a test session; pages are opened and closed in it."""

    def __init__(self, executable: str) -> None:
        self._profile = tempfile.mkdtemp(prefix="deltastore-chromium-")
        to_chrome_read, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_write = os.pipe()
        # Move the child's ends above 100 so bash can place them at fd 3 and 4 without
        # clobbering one with the other (bash, not sh: dash only knows fds 0-9).
        child_read = fcntl.fcntl(to_chrome_read, fcntl.F_DUPFD, 100)
        child_write = fcntl.fcntl(from_chrome_write, fcntl.F_DUPFD, 100)
        os.close(to_chrome_read)
        os.close(from_chrome_write)
        args = [
            executable, "--headless", "--remote-debugging-pipe", "--no-sandbox",
            "--disable-gpu", "--disable-quic", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--mute-audio", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={self._profile}", "about:blank",
        ]
        self._log = open(Path(self._profile) / "chromium.log", "wb")  # noqa: SIM115
        self._process = subprocess.Popen(
            ["/bin/bash", "-c", f'exec "$@" 3<&{child_read} 4>&{child_write}', "bash", *args],
            pass_fds=(child_read, child_write), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        os.close(child_read)
        os.close(child_write)
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.version = self.call("Browser.getVersion")["product"]

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            *complete, buffer = buffer.split(b"\0")
            for raw in complete:
                self._messages.put(json.loads(raw))

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its reply; events seen meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._get()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._events.append(reply)

    def _get(self) -> dict[str, Any]:
        try:
            reply = self._messages.get(timeout=TIMEOUT)
        except queue.Empty:
            raise CDPError(f"Chromium sent nothing for {TIMEOUT:.0f} s") from None
        if reply is None:
            raise CDPError(f"Chromium exited; see {self._profile}/chromium.log")
        return reply

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        for index, event in enumerate(self._events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self._events.pop(index)
        while True:
            event = self._get()
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self._events.append(event)

    def open(self, url: str, width: int = 1280, height: int = 900) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=session)
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        page = Page(self, target, session)
        page.evaluate("1")  # one more round trip: anything queued by the load is now in
        return page

    def events_of(self, session: str) -> list[dict[str, Any]]:
        mine = [e for e in self._events if e.get("sessionId") == session]
        self._events = [e for e in self._events if e.get("sessionId") != session]
        return mine

    def close(self) -> None:
        with contextlib.suppress(CDPError):
            self.call("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_chrome)
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)


class Page:
    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser, self.target, self.session = browser, target, session
        self.report = PageReport()

    def evaluate(self, expression: str) -> Any:
        reply = self.browser.call("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session)
        if "exceptionDetails" in reply:
            raise CDPError(f"{expression!r} failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def collect(self) -> PageReport:
        """Sort the page's events into the report (call after the interaction under test)."""
        for event in self.browser.events_of(self.session):
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = [str(a.get("value", a.get("description"))) for a in params.get("args", [])]
                self.report.console_errors.append("console: " + " ".join(args))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                self.report.exceptions.append(
                    "exception: " + str(details.get("exception", {}).get("description")
                                        or details.get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                self.report.log_errors.append(f"log: {entry.get('text')} {entry.get('url', '')}")
            elif method == "Network.requestWillBeSent":
                self.report.requested_urls.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                self.report.failed_requests.append(
                    f"failed request: {params.get('errorText')} ({params.get('type')})")
        return self.report

    def screenshot(self, path: Path, scale: float = 1.0) -> None:
        """A PNG of the whole page; ``scale`` below 1 shrinks it inside Chromium."""
        size = self.evaluate("[document.documentElement.scrollWidth,"
                             " document.documentElement.scrollHeight]")
        shot = self.browser.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": scale}},
            session=self.session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def emulate_media(self, media: str) -> None:
        """'print' lays the page out with its print stylesheet; '' returns to screen."""
        self.browser.call("Emulation.setEmulatedMedia", {"media": media}, session=self.session)

    def emulate_touch(self) -> None:
        """A touch screen: the page then matches ``(pointer: coarse)``."""
        self.browser.call("Emulation.setTouchEmulationEnabled",
                          {"enabled": True, "maxTouchPoints": 1}, session=self.session)

    def resize(self, width: int, height: int) -> None:
        self.browser.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=self.session)

    def close(self) -> None:
        self.browser.call("Target.closeTarget", {"targetId": self.target})
