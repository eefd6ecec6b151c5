"""Sweeps: for a sweep folder, a KPI against one or two swept parameters, and which
parameters move it most."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, callback, dcc, html

from flowsim.dashboard import figures as fig
from flowsim.dashboard import summaries as sm
from flowsim.dashboard.components import chart, current_results, message, page_header, problems_box
from flowsim.dashboard.data import Results, swept_parameters
from flowsim.metrics.registry import HEADLINE_KPIS, KPIS, kpi

NONE = "__none__"


def layout(**_: Any) -> html.Div:
    results, error = current_results()
    header = page_header(
        "Sweeps",
        "How a KPI changes as the swept parameters change, and which parameters matter most.",
    )
    frame, params = (None, []) if results is None else swept_parameters(results)
    if results is None or frame is None:
        return html.Div(
            [
                header,
                problems_box(results, error),
                message(
                    "Not a sweep folder: these results hold no swept parameters (a samples table, or parameter "
                    "columns beside the KPIs). Run a sweep to see this page.",
                ),
            ],
            id="sweeps-none",
        )
    names = [
        m.name
        for m in KPIS
        if m.name in frame.columns and m.kind in ("proportion", "quantity", "count", "money")
    ]
    names = sorted(names, key=lambda n: (n not in HEADLINE_KPIS, names.index(n)))
    first = next((n for n in ("acute_occupancy_mean", *names) if n in names), None)
    options = [{"label": kpi(n).label, "value": n} for n in names]
    param_options = [{"label": p, "value": p} for p in params]
    return html.Div(
        [
            header,
            problems_box(results, None),
            html.Div(
                [
                    html.Label(
                        ["KPI", dcc.Dropdown(id="sweeps-kpi", options=options, value=first, clearable=False)],
                        className="picker picker-wide",
                    ),
                    html.Label(
                        [
                            "Parameter (across)",
                            dcc.Dropdown(
                                id="sweeps-x", options=param_options, value=params[0], clearable=False
                            ),
                        ],
                        className="picker",
                    ),
                    html.Label(
                        [
                            "Second parameter (heatmap)",
                            dcc.Dropdown(
                                id="sweeps-y",
                                options=[{"label": "none: a line", "value": NONE}, *param_options],
                                value=NONE,
                                clearable=False,
                            ),
                        ],
                        className="picker",
                    ),
                ],
                className="pickers",
            ),
            dcc.Loading(html.Div(content(results, first, params[0], NONE), id="sweeps-content"), type="dot"),
        ]
    )


@callback(
    Output("sweeps-content", "children"),
    Input("sweeps-kpi", "value"),
    Input("sweeps-x", "value"),
    Input("sweeps-y", "value"),
    prevent_initial_call=True,
)
def update(name: str | None, x: str | None, y: str | None) -> Any:
    results, error = current_results()
    if results is None:
        return message(error or "Not a sweep folder.", "error")
    return content(results, name, x, y)


def content(results: Results, name: str | None, x: str | None, y: str | None) -> Any:
    """The sweep's charts for a KPI and one or two parameters (computed once per choice)."""
    return results.computed(("sweeps", name, x, y), lambda: _content(results, name, x, y))


def _content(results: Results, name: str | None, x: str | None, y: str | None) -> Any:
    frame, params = swept_parameters(results)
    if frame is None or name is None or x is None:
        return message("Not a sweep folder.", "error")
    measure = kpi(name)
    shown = frame.assign(**{name: fig.to_shown(measure, frame[name])})
    unit = fig.axis_title(measure)
    out = []
    if y in (None, NONE) or y == x:
        curve = sm.sweep_curve(shown, name, x)
        bands = curve.rename(columns={x: "date"}).assign(scenario=measure.label)
        figure = fig.band_figure(bands, f"{measure.label} against {x}", unit)
        figure["layout"].update(hovermode="closest")
        figure["layout"]["xaxis"]["title"] = {"text": x}
        out.append(
            chart(
                "sweep-line",
                figure,
                f"The mean of {measure.label.lower()} over the runs at each value of {x} (grouped into ten "
                "equal-count bins when it takes more values), with the 95% interval of that mean as the band.",
                curve,
            )
        )
    else:
        data = shown[[x, y, name]].dropna()
        for column in (x, y):
            if data[column].nunique() > 8:
                import pandas as pd

                data[column] = pd.qcut(data[column], 8, duplicates="drop").map(lambda i: i.mid).astype(float)
        pivot = data.pivot_table(index=y, columns=x, values=name, aggfunc="mean")
        out.append(
            chart(
                "sweep-heatmap",
                fig.heatmap_figure(pivot, f"{measure.label}: mean over runs", x, y, unit),
                f"The mean of {measure.label.lower()} for each pair of values of {x} and {y} (binned into eight "
                "equal-count groups when a parameter takes more values); darker is lower.",
                pivot.reset_index(),
            )
        )
    ranking = sm.sensitivity(shown, name, params)
    if ranking.empty:
        out.append(message("Too few runs, or no parameter varies, to rank the parameters."))
    else:
        out.append(
            chart(
                "sweep-sensitivity",
                fig.sensitivity_figure(ranking, f"Which parameters move {measure.label.lower()} most"),
                "Standardised regression coefficients: how many standard deviations the KPI moves per standard "
                "deviation of each parameter, the others held fixed; longest bar first. A straight-line fit "
                f"explains {ranking['r2'].iloc[0]:.0%} of the KPI's variation across runs.",
                ranking,
            )
        )
    return html.Div(out, className="charts")
