"""Serve the dashboard in a process of its own and drive Debian's chromium headless: what
the end-to-end tests, the benchmark (`benchmarks/bench_dashboard.py`) and the README's
screenshot use.

Playwright drives the system's `/usr/bin/chromium`; it never downloads a browser of its
own (`playwright install` is not needed, and not used).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM", "PAGES", "chromium", "free_port", "serve", "wait_for_page"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Each page's path and what shows it has rendered: its charts, or its main table.
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "#overview-tiles .tile"),
    ("/capacity", "#capacity-content .js-plotly-plot .main-svg"),
    ("/flow", "#flow-content .js-plotly-plot .main-svg"),
    ("/money", "#money-content .js-plotly-plot .main-svg"),
    ("/sweeps", "#sweeps-content .js-plotly-plot .main-svg, #sweeps-none .notice"),
    ("/provenance", "#provenance-command"),
)
VIEWPORT = {"width": 1366, "height": 768}
_REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port free on the loopback address now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(
    results: str | os.PathLike[str],
    command: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[str]:
    """Run `flowsim dashboard RESULTS` (or `command`, which must serve on the port in its
    `{port}` placeholder) on a free loopback port; yield its URL once it answers; stop it."""
    port = free_port()
    args = [sys.executable, "-m", "flowsim", "dashboard", os.fspath(results), "--port", str(port)]
    if command is not None:
        args = [part.format(port=port) for part in command]
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), environment.get("PYTHONPATH")]))
    process = subprocess.Popen(
        args, cwd=_REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"the dashboard stopped with status {process.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright: yields the browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def wait_for_page(page: Any, url: str, ready: str, timeout_ms: float = 60_000) -> float:
    """Open `url` and wait until `ready` (a CSS selector) is visible and no callback is
    pending; return the seconds it took: the page's render time."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(ready, state="visible", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=timeout_ms
    )
    return time.perf_counter() - start
