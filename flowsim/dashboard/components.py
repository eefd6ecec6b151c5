"""Pieces every page uses: a chart with its explanation and data download, messages, the
scenario pickers, and the results the app serves."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dash import dcc, html

from flowsim.compare import BASELINE_NAME
from flowsim.dashboard.data import Results, load_results
from flowsim.results import ResultsError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["chart", "current_results", "message", "problems_box", "scenario_pickers", "settings"]

RESULTS_KEY = "FLOWSIM_RESULTS"
TARGETS_KEY = "FLOWSIM_TARGETS"


def settings() -> dict[str, Any]:
    """The app's settings (results folder, default targets), from the Flask app serving it."""
    import flask

    return dict(flask.current_app.config)


def current_results() -> tuple[Results | None, str | None]:
    """The served folder's results, or None and one line saying why they cannot be read."""
    root = settings().get(RESULTS_KEY)
    if root is None:
        return None, "no results folder was given to the dashboard (set FLOWSIM_RESULTS)"
    try:
        return load_results(root), None
    except ResultsError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"{root}: cannot be read ({exc.strerror or exc})"


def message(text: str, kind: str = "info") -> html.Div:
    """A notice in plain words ('info', 'warning' or 'error'), never a traceback."""
    return html.Div(text, className=f"notice notice-{kind}", role="status")


def problems_box(results: Results | None, error: str | None) -> html.Div:
    """What cannot be read, each named; empty when everything reads."""
    if error is not None:
        return html.Div([message(f"Cannot show these results: {error}", "error")], className="problems")
    if results is None or not results.problems:
        return html.Div(className="problems")
    items = [html.Li(p) for p in results.problems]
    return html.Div(
        [
            html.Details(
                [
                    html.Summary(
                        f"{len(items)} part{'s' if len(items) != 1 else ''} of these results could not be read "
                        "and are left out; the rest is shown."
                    ),
                    html.Ul(items),
                ],
                open=len(items) <= 3,
            )
        ],
        className="notice notice-warning problems",
        role="status",
    )


def csv_href(frame: pd.DataFrame) -> str:
    """A chart's data as a CSV data URL, so the download needs no round trip."""
    return "data:text/csv;charset=utf-8," + urllib.parse.quote(frame.to_csv(index=False))


def chart(
    name: str, figure: dict[str, Any], explanation: str, data: pd.DataFrame, wide: bool = False
) -> html.Div:
    """A chart, the short explanation under it and a link to its data as CSV; the chart's
    toolbar downloads it as PNG."""
    config: Any = {
        "displaylogo": False,
        "responsive": False,
        "toImageButtonOptions": {"format": "png", "filename": f"flowsim-{name}", "scale": 2},
        # Nothing leaves the machine: no button that uploads the chart to a cloud service.
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendChartToCloud", "sendDataToCloud"],
    }
    return html.Div(
        [
            dcc.Graph(id=f"chart-{name}", figure=figure, config=config, className="chart"),
            html.P(explanation, className="explanation"),
            html.A(
                "Download the data (CSV)",
                href=csv_href(data),
                download=f"flowsim-{name}.csv",
                className="csv-link",
                id=f"csv-{name}",
            ),
        ],
        className="card chart-card chart-wide" if wide else "card chart-card",
    )


def default_pair(scenarios: Sequence[str]) -> tuple[str | None, str | None]:
    """(scenario, baseline) shown first: the baseline as `flowsim compare` chooses it (the one
    named 'baseline', else the first alphabetically) and the first other scenario."""
    if not scenarios:
        return None, None
    baseline = BASELINE_NAME if BASELINE_NAME in scenarios else scenarios[0]
    others = [s for s in scenarios if s != baseline]
    return (others[0] if others else baseline), baseline


def scenario_pickers(page: str, scenarios: Sequence[str], extra: Sequence[Any] = ()) -> html.Div:
    """The scenario and baseline drop-downs of a page (ids `<page>-scenario`, `<page>-baseline`)."""
    scenario, baseline = default_pair(scenarios)
    options = [{"label": s, "value": s} for s in scenarios]
    return html.Div(
        [
            html.Label(
                [
                    "Scenario",
                    dcc.Dropdown(id=f"{page}-scenario", options=options, value=scenario, clearable=False),
                ],
                className="picker",
            ),
            html.Label(
                [
                    "Baseline",
                    dcc.Dropdown(id=f"{page}-baseline", options=options, value=baseline, clearable=False),
                ],
                className="picker",
            ),
            *extra,
        ],
        className="pickers",
    )


def page_header(title: str, lede: str) -> html.Div:
    return html.Div([html.H2(title), html.P(lede, className="lede")], className="page-header")


def table(frame: pd.DataFrame, class_name: str = "data-table", table_id: str | None = None) -> html.Table:
    """A small table as HTML (the comparison, the ranking, the runs)."""
    head = html.Thead(html.Tr([html.Th(str(c)) for c in frame.columns]))
    body = html.Tbody([html.Tr([html.Td(str(v)) for v in row]) for row in frame.itertuples(index=False)])
    if table_id:
        return html.Table([head, body], className=class_name, id=table_id)
    return html.Table([head, body], className=class_name)


def open_scenario_page(page: str, title: str, lede: str) -> tuple[Results, html.Div] | html.Div:
    """The results and the header of a page about scenarios; or, when there is no scenario
    to show, the whole page: its header, what is unreadable and why there is nothing."""
    results, error = current_results()
    header = page_header(title, lede)
    if results is None or not results.scenarios:
        return html.Div([header, problems_box(results, error), no_results(page, error)])
    return results, header


def no_results(page: str, error: str | None) -> html.Div:
    """A page that has nothing to show, saying why."""
    return html.Div(
        [message(error or "No complete run in these results yet.", "error")], id=f"{page}-content"
    )
