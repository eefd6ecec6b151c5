"""The dashboard in a browser: results from short real runs, `flowsim dashboard` on a free
loopback port, Debian's chromium driven headless by Playwright.

Every page renders its charts with no error in the browser's console; switching scenario
updates the tiles; the board paper downloads with its comparison table; damaged results
are named while the rest is served; the production WSGI command line serves the app.
A screenshot of each page is saved in the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pytest

pytest.importorskip("dash")
pytest.importorskip("playwright")

from flowsim.dashboard.browser import CHROMIUM, PAGES, VIEWPORT, chromium, serve, wait_for_page  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def dashboard(dashboard_results: Path) -> Iterator[str]:
    with serve(dashboard_results) as url:
        yield url


class Console:
    """The browser's console errors and uncaught page errors, gathered as the page runs."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Console]]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(60_000)  # a loaded machine draws slowly
    p = context.new_page()
    console = Console(p)
    yield p, console
    context.close()
    assert console.errors == []


def test_every_page_renders_its_charts(dashboard: str, page: tuple[Any, Console], tmp_path: Path) -> None:
    p, _ = page
    charts = {}
    for path, ready in PAGES:
        wait_for_page(p, dashboard + path, ready)
        charts[path] = p.locator(".js-plotly-plot").count()
        assert p.locator("text=Traceback").count() == 0
        p.screenshot(path=str(tmp_path / f"{path.strip('/') or 'overview'}.png"), full_page=True)
    # Capacity: occupancy, by site, boarders, delays by pathway and by organisation, community.
    assert charts["/capacity"] == 6
    # Money: cost over time, by organisation, who pays; with payments, accounts, income, surplus change.
    assert charts["/flow"] == 2 and charts["/money"] == 6
    assert p.locator("#provenance-command").inner_text().startswith("flowsim reproduce ")
    wait_for_page(p, dashboard + "/sweeps", PAGES[4][1])
    assert "Not a sweep folder" in p.locator("#sweeps-none").inner_text()
    wait_for_page(p, dashboard + "/money", PAGES[3][1])
    assert "Change in surplus" in p.locator("#money-content").inner_text()
    # Every chart downloads: PNG from its toolbar (and nothing uploads it), its data as CSV.
    titles = p.locator(".modebar-btn").evaluate_all("els => els.map(e => e.getAttribute('data-title'))")
    assert titles.count("Download plot as a PNG") == 6 and "Share chart..." not in titles
    href = unquote(p.locator("#csv-cost-change").get_attribute("href"))
    assert href.startswith("data:text/csv;charset=utf-8,who,difference,lower,upper,n\n")
    assert sorted(f.name for f in tmp_path.glob("*.png")) == sorted(
        f"{path.strip('/') or 'overview'}.png" for path, _ in PAGES
    )


def test_switching_scenario_updates_the_tiles(dashboard: str, page: tuple[Any, Console]) -> None:
    p, _ = page
    wait_for_page(p, dashboard + "/", PAGES[0][1])
    before = p.locator("#tile-acute_occupancy_mean").inner_text()
    assert "Baseline" in before and "this is the baseline" not in before
    p.locator("#overview-scenario").click()
    p.get_by_role("option", name="small", exact=True).click()
    p.wait_for_function(
        "() => document.querySelector('#tile-acute_occupancy_mean').innerText.includes('this is the baseline')"
    )
    assert p.locator("#tile-acute_occupancy_mean").inner_text() != before


def test_the_board_paper_downloads_with_the_comparison_table(
    dashboard: str, page: tuple[Any, Console], tmp_path: Path
) -> None:
    p, _ = page
    wait_for_page(p, dashboard + "/", PAGES[0][1])
    with p.expect_download() as caught:
        p.locator("#overview-board-paper").click()
    download = caught.value
    assert download.suggested_filename == "board-paper-small_beds_cut-vs-small.html"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert '<table class="comparison">' in text and "Acute bed occupancy, average" in text
    assert "data:image/png;base64," in text


def _add_sweep(root: Path) -> None:
    """Six hand-made runs of a sweep over acute.beds_scale: the parameter rides beside the
    KPIs, as a sweep writes it."""
    from pydantic import BaseModel, ConfigDict

    from flowsim.results import RunOutput, write_run

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        name: str

    for sample in range(6):
        scale = 0.8 + 0.05 * sample
        kpis = pa.table(
            {"acute_occupancy_mean": [1.1 - 0.3 * scale + 0.001 * sample**2], "acute.beds_scale": [scale]}
        )
        name = f"sweep-{sample}"
        meta = {"seed": 1, "spawn_key": [0], "replication": 0, "scenario": name}
        write_run(root, RunOutput({"kpis": kpis}, meta), Config(name=name), 0.0)


def test_damaged_results_are_named_and_the_rest_served(
    dashboard_results: Path, browser: Any, tmp_path: Path
) -> None:
    """A damaged file is named on every page and the rest is shown; runs of a sweep in the
    same folder fill the sweeps page."""
    root = Path(shutil.copytree(dashboard_results, tmp_path / "results"))
    part = root / "occupancy/scenario=small/replication=1/part-0.parquet"
    part.write_bytes(part.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    _add_sweep(root)
    context = browser.new_context(viewport=VIEWPORT)
    p = context.new_page()
    console = Console(p)
    with serve(root) as url:
        wait_for_page(p, url + "/capacity", PAGES[1][1])
        problems = p.locator(".problems").inner_text()
        assert "occupancy/scenario=small/replication=1/part-0.parquet" in problems
        assert p.locator(".js-plotly-plot").count() == 6
        p.screenshot(path=str(tmp_path / "damaged-capacity.png"), full_page=True)
        wait_for_page(p, url + "/sweeps", PAGES[4][1])
        assert p.locator("#chart-sweep-line .main-svg").count() > 0
        assert p.locator("#chart-sweep-sensitivity .main-svg").count() > 0
        p.screenshot(path=str(tmp_path / "sweeps.png"), full_page=True)
    context.close()
    assert console.errors == []


def test_the_production_wsgi_command_serves_the_app(dashboard_results: Path) -> None:
    """The command docs/dashboard.md gives for waitress."""
    waitress = Path(sys.executable).with_name("waitress-serve")
    command = [str(waitress), "--listen", "127.0.0.1:{port}", "dashboards.wsgi:server"]
    with serve(dashboard_results, command, env={"FLOWSIM_RESULTS": str(dashboard_results)}) as url:
        with urllib.request.urlopen(url + "/_dash-layout", timeout=10) as response:
            assert response.status == 200 and b"flowsim" in response.read()
