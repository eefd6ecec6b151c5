"""Money: cost (and, with payments, income and surplus) by organisation over time, and the
change against the baseline: who pays, who saves, with the system as one budget."""

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
from flowsim.vocabulary import ORGANISATIONS

_BAND = "The line is the mean over replications; the band runs from the lowest to the highest replication."


def layout(**_: Any) -> html.Div:
    opened = open_scenario_page(
        "money",
        "Money",
        "Who spends what, at the config's price base, over the measured window; the system's total is "
        "every organisation's spend as one budget.",
    )
    if isinstance(opened, html.Div):
        return opened
    results, header = opened
    return html.Div(
        [
            header,
            problems_box(results, None),
            scenario_pickers("money", results.scenarios),
            dcc.Loading(
                html.Div(content(results, *default_pair(results.scenarios)), id="money-content"), type="dot"
            ),
        ]
    )


def _label(organisation: str) -> str:
    return "the system (one budget)" if organisation == "system" else organisation.replace("_", " ")


def charts(results: Results, scenario: str, baseline: str) -> list[Any]:
    """The page's charts for one scenario and baseline (also used by the board paper)."""
    out: list[Any] = []
    spend = results.measured("spend")
    kpis = results.table("kpis")
    if spend is None:
        out.append(
            message("No spend table in these results: cost by organisation cannot be shown.", "warning")
        )
    else:
        daily = (
            spend[spend["scenario"] == scenario]
            .groupby(["scenario", "replication", "organisation", "date"], observed=True)["pounds"]
            .sum()
            .reset_index()
        )
        daily["organisation"] = daily["organisation"].map(_label)
        bands = sm.band(daily, "pounds", ["organisation"])
        out.append(
            chart(
                "cost-over-time",
                fig.band_figure(
                    bands, f"Cost by organisation each day, {scenario}", "£ a day", series="organisation"
                ),
                f"What each organisation spends each day of the measured window. {_BAND}",
                bands,
            )
        )
    if kpis is not None:
        organisations = [o for o in ORGANISATIONS if f"spend_{o}" in kpis.columns]
        totals = sm.organisation_totals(kpis[kpis["scenario"].isin([scenario, baseline])], organisations)
        totals["who"] = totals["organisation"].map(_label)
        means = totals.groupby(["scenario", "who"], observed=True)["pounds"].mean().reset_index()
        out.append(
            chart(
                "cost-by-organisation",
                fig.grouped_bars_figure(
                    means,
                    "who",
                    "pounds",
                    "scenario",
                    "Cost over the measured window",
                    "£",
                    baseline=baseline,
                ),
                "Each organisation's spend over the measured window, mean over replications, beside the baseline "
                "(hatched).",
                means,
            )
        )
        if scenario != baseline:
            changes = sm.paired_change(totals, "pounds", "who", scenario, baseline)
            out.append(
                chart(
                    "cost-change",
                    fig.bar_change_figure(
                        changes, "who", f"Who pays, who saves: {scenario} minus {baseline}", "£"
                    ),
                    "The change in each organisation's spend, paired replication by replication, with its 95% "
                    "interval: orange bars cost more, blue bars save. The system's line is the total as one budget.",
                    changes,
                )
            )
    flows = results.measured("flows")
    if flows is None:
        out.append(
            message(
                "No payments in these results: income and surplus by organisation need a flows table (payments "
                "between organisations), which these runs did not record. Cost is shown above.",
            )
        )
    elif spend is not None:
        finance = results.measured("finance")
        money = sm.cost_and_income(spend, flows, finance)
        shown = ["allocation", "income", "payments", "cost", "surplus"] if finance is not None else []
        long = money.melt(
            id_vars=["scenario", "replication", "organisation"],
            value_vars=shown or ["income", "cost", "surplus"],
        )
        means = (
            long.groupby(["scenario", "organisation", "variable"], observed=True)["value"]
            .mean()
            .reset_index()
        )
        mine = means[means["scenario"] == scenario]
        out.append(
            chart(
                "income-cost-surplus",
                fig.grouped_bars_figure(
                    mine, "organisation", "value", "variable", f"Income, cost and surplus, {scenario}", "£"
                ),
                "Budget is a commissioner's allocation from outside the footprint; income what an organisation is "
                "paid by others and payments what it pays them (the flows table); cost what it bears (the spend "
                "table). Surplus is budget + income − payments − cost, a deficit when negative (income − cost "
                "where the run kept no accounts). Mean over replications.",
                mine,
            )
        )
        income_daily = (
            flows[flows["scenario"] == scenario]
            .groupby(["scenario", "replication", "payee", "date"], observed=True)["pounds"]
            .sum()
            .reset_index()
        )
        bands = sm.band(income_daily, "pounds", ["payee"])
        out.append(
            chart(
                "income-over-time",
                fig.band_figure(
                    bands, f"Income by organisation each day, {scenario}", "£ a day", series="payee"
                ),
                f"Payments received each day, by the organisation paid. {_BAND}",
                bands,
            )
        )
        if scenario != baseline:
            changes = sm.paired_change(money, "surplus", "organisation", scenario, baseline)
            out.append(
                chart(
                    "surplus-change",
                    fig.bar_change_figure(
                        changes,
                        "organisation",
                        f"Change in surplus: {scenario} minus {baseline}",
                        "£",
                        better="higher",
                    ),
                    "The change in each organisation's surplus (budget + income − payments − cost), paired replication by "
                    "replication, with its 95% interval: blue is better off, orange worse off.",
                    changes,
                )
            )
    return out


@callback(
    Output("money-content", "children"),
    Input("money-scenario", "value"),
    Input("money-baseline", "value"),
    prevent_initial_call=True,
)
def update(scenario: str | None, baseline: str | None) -> Any:
    results, error = current_results()
    if results is None:
        return message(error or "Choose a scenario.", "error")
    return content(results, scenario, baseline)


def content(results: Results, scenario: str | None, baseline: str | None) -> Any:
    """The page's charts (computed once per choice)."""
    if scenario is None or baseline is None:
        return message("Choose a scenario.", "error")
    return results.computed(
        ("money", scenario, baseline),
        lambda: html.Div(charts(results, scenario, baseline), className="charts"),
    )
