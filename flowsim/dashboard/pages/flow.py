"""Patient flow: a Sankey diagram of where people went, and how each flow differs from the
baseline."""

from __future__ import annotations

from typing import Any

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


def layout(**_: Any) -> html.Div:
    opened = open_scenario_page(
        "flow",
        "Patient flow",
        "Where people went over the measured window (after warm-up): general practice, A&E, an "
        "acute bed, the discharge pathways P0–P3, and back again.",
    )
    if isinstance(opened, html.Div):
        return opened
    results, header = opened
    return html.Div(
        [
            header,
            problems_box(results, None),
            scenario_pickers("flow", results.scenarios, [_gp_toggle()]),
            dcc.Loading(
                html.Div(content(results, *default_pair(results.scenarios), []), id="flow-content"),
                type="dot",
            ),
        ]
    )


@callback(
    Output("flow-content", "children"),
    Input("flow-scenario", "value"),
    Input("flow-baseline", "value"),
    Input("flow-gp", "value"),
    prevent_initial_call=True,
)
def update(scenario: str | None, baseline: str | None, gp: list[str] | None) -> Any:
    results, error = current_results()
    if results is None:
        return message(error or "No KPIs to show.", "error")
    return content(results, scenario, baseline, gp or [])


def _gp_toggle() -> dcc.Checklist:
    """Consultations that stay in general practice outnumber every other flow many times
    over; drawn, they squeeze the hospital's flows to slivers. Off at first."""
    return dcc.Checklist(
        id="flow-gp",
        options=[{"label": " Show consultations managed in general practice", "value": GP}],
        value=[],
        className="picker",
    )


GP = "gp"


def content(results: Results, scenario: str | None, baseline: str | None, gp: list[str]) -> Any:
    """The Sankey and the changes (computed once per choice)."""
    show = GP in gp
    return results.computed(
        ("flow", scenario, baseline, show), lambda: _content(results, scenario, baseline, show)
    )


def _content(results: Results, scenario: str | None, baseline: str | None, show_gp: bool) -> Any:
    kpis = results.table("kpis")
    if kpis is None or scenario is None or baseline is None:
        return message("No KPIs to show.", "error")
    flows = sm.patient_flows(kpis, results.table("daily"))
    links = sm.flow_links(flows, scenario)
    if not show_gp:
        links = links[links["target"] != "Managed in general practice"]
    changes = sm.flow_differences(flows, scenario, baseline)
    if not (links["people"] > 0).any():
        return message(
            "These results hold none of the counts the flow diagram needs (GP consultations, A&E attendances, "
            "admissions, discharges by pathway): their kpis table has only "
            f"{', '.join(c for c in kpis.columns if c not in ('scenario', 'replication'))}.",
            "warning",
        )
    out = [
        chart(
            "patient-flow",
            fig.sankey_figure(links, f"Where people went, {scenario} (mean over replications)"),
            "Each band's width is the number of people, averaged over replications (GP consultations that stay "
            "in general practice are left out unless ticked above). Live discharges split by "
            "pathway; 30-day readmissions are drawn from each pathway in proportion to its discharges (the "
            "results hold the readmission rate for all discharges, not by pathway). Readmissions need 30 days "
            "of follow-up, so a short run shows none.",
            links,
            wide=True,
        )
    ]
    if scenario == baseline:
        out.append(message("The scenario is the baseline: choose another scenario to see the differences."))
    else:
        out.append(
            chart(
                "patient-flow-change",
                fig.bar_change_figure(
                    changes,
                    "link",
                    f"Change in each flow, {scenario} minus {baseline}",
                    "people",
                    better=None,
                ),
                "Scenario minus baseline, paired replication by replication, with the 95% interval (the whisker). "
                "A whisker that crosses zero: no clear change.",
                changes,
            )
        )
    return html.Div(out, className="charts")
