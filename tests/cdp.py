"""A small Chrome DevTools Protocol client for the browser tests (websockets, sync API).

It starts the system's headless Chromium (Debian's ``chromium`` package) on a blank page,
connects to that page's websocket, records every request the page makes, every console
message and uncaught exception, and can navigate, evaluate JavaScript and take a
screenshot. Nothing here is part of ice_recon.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Executables tried, in order (ICE_RECON_CHROMIUM first when set).
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Return the path of a Chromium executable, or None."""
    named = os.environ.get("ICE_RECON_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One page of a headless Chromium, driven over CDP."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.requests: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.exceptions: list[str] = []
        self.events: list[dict[str, Any]] = []

    def _record(self, message: dict[str, Any]) -> None:
        method = message.get("method", "")
        params = message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console.append((params["type"], text))
        elif method == "Runtime.exceptionThrown":
            self.exceptions.append(json.dumps(params["exceptionDetails"])[:500])
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.console.append((entry["level"], entry.get("text", "")))
        self.events.append(message)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call *method* and return its result (recording the events that arrive first)."""
        ident = next(self._ids)
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=30))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._record(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:  # float-ok: seconds
        """Wait for the event *method* (one already recorded counts)."""
        for message in self.events:
            if message.get("method") == method:
                return message
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._socket.recv(timeout=max(deadline - time.monotonic(), 0)))
            self._record(message)
            if message.get("method") == method:
                return message

    def evaluate(self, expression: str) -> Any:
        """Return the value of a JavaScript *expression* (JSON-serialisable)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> float:  # float-ok: seconds
        """Navigate to *url*; return the seconds until its load event."""
        self.events.clear()
        self.requests.clear()
        self.console.clear()
        self.exceptions.clear()
        started = time.perf_counter()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        return time.perf_counter() - started

    def screenshot(
        self, path: Path, width: int = 1280, height: int | None = None, top: int = 0
    ) -> None:
        """Save a PNG of the page, *width* CSS pixels wide: *height* pixels from *top*, or all."""
        whole = int(self.evaluate("document.documentElement.scrollHeight"))
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        clip = {
            "x": 0,
            "y": top,
            "width": width,
            "height": min(height or whole, whole - top),
            "scale": 1,
        }
        shot = self.send(
            "Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip
        )
        path.write_bytes(base64.b64decode(shot["data"]))


@contextlib.contextmanager
def browser(executable: str) -> Iterator[Page]:
    """Start headless Chromium; yield its blank page with Network, Runtime, Log and Page on."""
    from websockets.sync.client import connect

    profile = tempfile.mkdtemp(prefix="ice-recon-chromium-")
    try:
        process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--user-data-dir={profile}",
                "--window-size=1280,900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helper processes can be stopped as one group
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.is_file() or not port_file.read_text().strip():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{executable} did not start (exit {process.poll()})")
                time.sleep(0.05)
            port = int(port_file.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            target = next(t for t in targets if t["type"] == "page")
            with connect(target["webSocketDebuggerUrl"], max_size=None) as socket:
                page = Page(socket)
                for domain in ("Network", "Runtime", "Log", "Page"):
                    page.send(f"{domain}.enable")
                yield page
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            # Chromium's helpers (crash handler, utility processes) can outlive the browser
            # and still write into the profile: stop the whole group before removing it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    finally:
        _remove(profile)


def _remove(folder: str) -> None:
    """Remove *folder*, retrying while a dying process still writes into it."""
    for _ in range(50):
        try:
            shutil.rmtree(folder)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    shutil.rmtree(folder, ignore_errors=True)
