"""Overview: the headline tiles of a scenario beside the baseline, the chance of meeting the
targets, the ranking of scenarios, the comparison table and the board paper."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, dcc, html, no_update

from flowsim.compare import CompareError
from flowsim.dashboard.components import (
    TARGETS_KEY,
    current_results,
    default_pair,
    message,
    open_scenario_page,
    problems_box,
    scenario_pickers,
    settings,
    table,
)
from flowsim.dashboard.data import Results
from flowsim.dashboard.headline import (
    Tile,
    comparison_for,
    comparison_rows,
    ranking,
    split_targets,
    target_lines,
    tiles,
)

_MARK = {"better": "▲ better", "worse": "▼ worse", "neutral": "◆ changed", "none": "● no clear change"}


def layout(**_: Any) -> html.Div:
    opened = open_scenario_page(
        "overview",
        "Overview",
        "A scenario beside the baseline: each figure is the mean over replications with its 95% "
        "interval, and the verdict says whether the change is bigger than chance.",
    )
    if isinstance(opened, html.Div):
        return opened
    results, header = opened
    targets = "\n".join(settings().get(TARGETS_KEY) or [])
    target_box = html.Label(
        [
            "Targets (one per line, e.g. acute_occupancy_mean<=92%)",
            dcc.Textarea(id="overview-targets", value=targets, rows=2, className="targets-box"),
        ],
        className="picker picker-wide",
    )
    download = html.Div(
        [
            html.Button("Download the board paper (HTML)", id="overview-board-paper", className="button"),
            dcc.Download(id="overview-board-paper-file"),
        ],
        className="picker",
    )
    return html.Div(
        [
            header,
            problems_box(results, None),
            scenario_pickers("overview", results.scenarios, [target_box, download]),
            dcc.Loading(
                html.Div(content(results, *default_pair(results.scenarios), targets), id="overview-content"),
                type="dot",
            ),
        ]
    )


def _tile(tile: Tile) -> html.Div:
    return html.Div(
        [
            html.Div(tile.label, className="tile-label"),
            html.Div(tile.value, className="tile-value"),
            html.Div(f"Baseline {tile.baseline}", className="tile-baseline"),
            html.Div(f"Change {tile.difference}", className="tile-difference"),
            html.Div(
                [html.Span(_MARK[tile.tone], className="tile-mark"), " ", tile.verdict],
                className="tile-verdict",
            ),
            *(html.Div(t, className="tile-target") for t in tile.targets),
        ],
        className=f"card tile tile-{tile.tone}",
        id=f"tile-{tile.kpi}",
    )


@callback(
    Output("overview-content", "children"),
    Input("overview-scenario", "value"),
    Input("overview-baseline", "value"),
    Input("overview-targets", "value"),
    prevent_initial_call=True,
)
def update(scenario: str | None, baseline: str | None, targets_text: str | None) -> Any:
    results, error = current_results()
    if results is None or scenario is None:
        return message(error or "No KPIs to show.", "error")
    return content(results, scenario, baseline, targets_text)


def content(results: Results, scenario: str | None, baseline: str | None, targets_text: str | None) -> Any:
    """The tiles, ranking and comparison table (computed once per choice)."""
    key = ("overview", scenario, baseline, targets_text or "")
    return results.computed(key, lambda: _content(results, scenario, baseline, targets_text))


def _content(results: Results, scenario: str | None, baseline: str | None, targets_text: str | None) -> Any:
    kpis = results.table("kpis")
    if kpis is None or scenario is None:
        return message("No KPIs to show.", "error")
    notes = []
    try:
        c = comparison_for(kpis, baseline, split_targets(targets_text))
    except CompareError as exc:
        notes.append(message(f"Targets not used: {exc}", "warning"))
        c = comparison_for(kpis, baseline)
    rank = ranking(c)
    rows = comparison_rows(c, scenario)
    n_s, n_b = results.replications(scenario), results.replications(c.baseline)
    return html.Div(
        [
            *notes,
            html.P(
                f"{scenario} ({n_s} replications) beside the baseline {c.baseline} ({n_b} replications). "
                + " ".join(c.notes()[1:]),
                className="explanation",
            ),
            html.Div([_tile(t) for t in tiles(c, scenario)], className="tiles", id="overview-tiles"),
            *(
                [
                    html.Div(
                        [
                            html.H3("Chance of meeting the targets"),
                            html.Ul([html.Li(line) for line in targets], id="overview-targets-met"),
                            html.P(
                                "The share of the scenario's replications that meet each target (against the "
                                "baseline: replication by replication); as good as the number of replications.",
                                className="explanation",
                            ),
                        ],
                        className="card",
                    )
                ]
                if (targets := target_lines(c, scenario))
                else []
            ),
            html.Div(
                [
                    html.H3("Ranking of scenarios"),
                    html.P(
                        "Best first: by the chance of meeting the weakest target (when targets are set), then by "
                        "how many headline figures are significantly better rather than worse, then by the "
                        "change in system spend.",
                        className="explanation",
                    ),
                    table(rank, table_id="overview-ranking")
                    if not rank.empty
                    else message("Only one scenario: nothing to rank."),
                ],
                className="card",
            ),
            html.Div(
                [
                    html.H3("Comparison table"),
                    table(rows, table_id="overview-comparison"),
                    html.P(
                        "± gives the half-width of the 95% interval over replications. Differences are the "
                        "scenario minus the baseline, replication by replication (common random numbers); pp: "
                        "percentage points.",
                        className="explanation",
                    ),
                ],
                className="card",
            ),
        ]
    )


@callback(
    Output("overview-board-paper-file", "data"),
    Input("overview-board-paper", "n_clicks"),
    State("overview-scenario", "value"),
    State("overview-baseline", "value"),
    State("overview-targets", "value"),
    prevent_initial_call=True,
)
def board_paper(
    clicks: int | None, scenario: str | None, baseline: str | None, targets_text: str | None
) -> Any:
    from flowsim.dashboard.board_paper import board_paper_html

    results, _ = current_results()
    if not clicks or results is None or scenario is None or results.table("kpis") is None:
        return no_update
    try:
        c = comparison_for(results.table("kpis"), baseline, split_targets(targets_text))
    except CompareError:
        c = comparison_for(results.table("kpis"), baseline)
    text = board_paper_html(results, c, scenario)
    return {"content": text, "filename": f"board-paper-{scenario}-vs-{c.baseline}.html", "type": "text/html"}
