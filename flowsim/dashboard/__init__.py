"""The flowsim dashboard: a Dash app (Dash pages) over one results folder.

`create_app(results)` builds it; `flowsim dashboard RESULTS` serves it on 127.0.0.1, and
`dashboards/wsgi.py` exposes it to a production WSGI server. Pages (`pages/`): overview,
capacity, patient flow, money, sweeps, provenance; the overview downloads the board paper.
Nothing is read at import: the results are read (and cached) when a page asks for them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dash import Dash

__all__ = ["create_app"]

TITLE = "flowsim dashboard"


def create_app(results: str | os.PathLike[str], targets: Sequence[str] = ()) -> Dash:
    """The dashboard over the results folder `results`; `targets` ('KPI<=VALUE', as `flowsim
    compare --target`) fill the overview's targets box."""
    import dash
    from dash import Dash, dcc, html

    from flowsim.dashboard.components import RESULTS_KEY, TARGETS_KEY
    from flowsim.dashboard.pages import PAGES

    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(Path(__file__).parent / "assets"),
        title=TITLE,
        suppress_callback_exceptions=True,
        update_title="",
    )
    app.server.config[RESULTS_KEY] = os.fspath(results)
    app.server.config[TARGETS_KEY] = list(targets)
    for page in PAGES:
        dash.register_page(
            page.module, path=page.path, name=page.name, title=f"{page.name} · {TITLE}", layout=page.layout
        )
    nav = [dcc.Link(page.name, href=page.path, className="nav-link", id=f"nav-{page.key}") for page in PAGES]
    app.layout = html.Div(
        [
            html.Header(
                [
                    html.H1("flowsim", className="brand"),
                    html.Span(os.fspath(results), className="results-path", title="The results folder shown"),
                    html.Nav(nav, className="nav"),
                ],
                className="top",
            ),
            html.Main(dash.page_container, className="main"),
        ],
        className="app",
    )
    _warm_up(results, targets)
    return app


def _warm_up(results: str | os.PathLike[str], targets: Sequence[str]) -> None:
    """Read the results and load the statistics' libraries now, then compute each page's
    first view in the background, so that the first reader does not wait for them
    (scipy.stats alone takes seconds to import; a page's charts, a second)."""
    import threading

    import scipy.stats  # noqa: F401  (t quantiles of every interval)

    from flowsim.dashboard.data import load_results
    from flowsim.dashboard.pages import first_views
    from flowsim.results import ResultsError

    try:
        loaded = load_results(results)
    except (ResultsError, OSError):
        return  # the pages say what is wrong
    threading.Thread(
        target=first_views, args=(loaded, list(targets)), name="flowsim-dashboard-warm-up", daemon=True
    ).start()
