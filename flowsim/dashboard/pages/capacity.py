"""Capacity over time: acute occupancy against the 85% and 92% lines, A&E boarders, delayed
beds by pathway and by responsible organisation, community and reablement occupancy."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, callback, dcc, html

from flowsim.dashboard import figures as fig
from flowsim.dashboard import summaries as sm
from flowsim.dashboard.components import (
    chart,
    current_results,
    default_pair,
    message,
    open_scenario_page,
    problems_box,
    scenario_pickers,
)
from flowsim.dashboard.data import Results
from flowsim.metrics.registry import measures

ALL_SITES = "__all__"
COMMUNITY_POOLS = ("community_beds", "reablement")
_BAND = (
    "The line is the mean over replications; the shaded band runs from the lowest to the highest replication."
)


def layout(**_: Any) -> html.Div:
    opened = open_scenario_page(
        "capacity",
        "Capacity over time",
        "Day by day, how full the beds are and who is waiting: warm-up days included, so the start "
        "shows the model settling.",
    )
    if isinstance(opened, html.Div):
        return opened
    results, header = opened
    sites = results.sites
    site_picker = html.Label(
        [
            "Acute site",
            dcc.Dropdown(
                id="capacity-site",
                options=[{"label": "All sites together", "value": ALL_SITES}]
                + [{"label": s, "value": s} for s in sites],
                value=ALL_SITES,
                clearable=False,
            ),
        ],
        className="picker",
        style={} if len(sites) > 1 else {"display": "none"},
    )
    return html.Div(
        [
            header,
            problems_box(results, None),
            scenario_pickers("capacity", results.scenarios, [site_picker]),
            dcc.Loading(
                html.Div(
                    content(results, *default_pair(results.scenarios), ALL_SITES), id="capacity-content"
                ),
                type="dot",
            ),
        ]
    )


def _pair(frame: pd.DataFrame, scenario: str, baseline: str) -> pd.DataFrame:
    return frame[frame["scenario"].isin([scenario, baseline])]


def charts(results: Results, scenario: str, baseline: str, site: str | None) -> list[Any]:
    """The page's charts for one scenario and baseline (also used by the board paper)."""
    out: list[Any] = []
    occupancy = results.table("occupancy")
    daily = results.table("daily")
    delays = results.table("delays")
    where = "all sites together" if site is None else f"site {site}"
    if occupancy is not None:
        acute = sm.band(sm.site_occupancy(_pair(occupancy, scenario, baseline), site), "occupancy")
        out.append(
            chart(
                "acute-occupancy",
                fig.band_figure(
                    acute,
                    f"Acute bed occupancy, {where}",
                    "% of beds in use",
                    baseline=baseline,
                    percent=True,
                    lines=fig.occupancy_lines(),
                ),
                "Beds in use as a share of beds available each day. Above 85% patients start to wait for beds; "
                f"92% is the planning ceiling. {_BAND}",
                acute,
            )
        )
        if site is None and len(results.sites) > 1:
            per_site = pd.concat(
                [
                    sm.site_occupancy(occupancy[occupancy["scenario"] == scenario], s).assign(site=s)
                    for s in results.sites
                ]
            )
            bands = sm.band(per_site, "occupancy", ["site"])
            out.append(
                chart(
                    "acute-occupancy-by-site",
                    fig.band_figure(
                        bands,
                        f"Acute bed occupancy by site, {scenario}",
                        "% of beds in use",
                        series="site",
                        percent=True,
                        lines=fig.occupancy_lines(),
                    ),
                    f"Each acute site of {scenario} on its own: a site can be full while the system average "
                    f"looks safe. {_BAND}",
                    bands,
                )
            )
    else:
        out.append(
            message("No occupancy table in these results: acute occupancy cannot be shown.", "warning")
        )
    if daily is not None and "ae_boarders_mean" in daily.columns:
        boarders = sm.band(_pair(daily, scenario, baseline), "ae_boarders_mean")
        label = measures("daily")["ae_boarders_mean"]
        out.append(
            chart(
                "ae-boarders",
                fig.band_figure(boarders, f"{label.label} (whole system)", label.unit, baseline=baseline),
                "Patients in A&E after a decision to admit, waiting for a ward bed (time-weighted daily mean). "
                f"{_BAND}",
                boarders,
            )
        )
    if delays is not None:
        for by, title, words in (
            (
                "pathway",
                "by the pathway awaited",
                "the discharge pathway they wait for (P1 home with support, P2 community bed, P3 care home)",
            ),
            (
                "responsible_organisation",
                "by the organisation responsible",
                "the organisation responsible for the delay, as in the national delayed-transfers collection",
            ),
        ):
            bands = sm.band(sm.delayed_beds(delays[delays["scenario"] == scenario], by), "beds", [by])
            out.append(
                chart(
                    f"delayed-beds-{by.replace('_', '-')}",
                    fig.band_figure(bands, f"Delayed acute beds {title}, {scenario}", "beds", series=by),
                    f"Acute beds held by medically fit patients, split by {words}. {_BAND}",
                    bands,
                )
            )
    else:
        out.append(message("No delays table in these results: delayed beds cannot be shown.", "warning"))
    if occupancy is not None:
        community = sm.occupancy_by_pool(_pair(occupancy, scenario, baseline), COMMUNITY_POOLS)
        if not community.empty:
            community["series"] = community["scenario"] + " · " + community["pool"].str.replace("_", " ")
            bands = sm.band(community, "occupancy", ["series"])
            out.append(
                chart(
                    "community-occupancy",
                    fig.band_figure(
                        bands.rename(columns={"series": "line"}),
                        "Community beds and reablement: occupancy",
                        "% of places in use",
                        series="line",
                        percent=True,
                    ),
                    "Places in use as a share of places available, for the scenario and the baseline. Full "
                    f"community services hold patients in acute beds. {_BAND}",
                    bands,
                )
            )
    return out


@callback(
    Output("capacity-content", "children"),
    Input("capacity-scenario", "value"),
    Input("capacity-baseline", "value"),
    Input("capacity-site", "value"),
    prevent_initial_call=True,
)
def update(scenario: str | None, baseline: str | None, site: str | None) -> Any:
    results, error = current_results()
    if results is None:
        return message(error or "Choose a scenario.", "error")
    return content(results, scenario, baseline, site)


def content(results: Results, scenario: str | None, baseline: str | None, site: str | None) -> Any:
    """The page's charts (computed once per choice)."""
    if scenario is None or baseline is None:
        return message("Choose a scenario.", "error")
    where = None if site in (None, ALL_SITES) else site
    return results.computed(
        ("capacity", scenario, baseline, where),
        lambda: html.Div(charts(results, scenario, baseline, where), className="charts"),
    )
