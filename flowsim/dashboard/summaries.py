"""The numbers behind each chart: pure functions of the tables a results folder holds.

Every time series is summarised across replications as a band (the lowest and highest
replication) around their mean, so a reader sees the spread of outcomes rather than one
noisy line. Differences from the baseline and their intervals come from `flowsim.stats`
(paired replication by replication, as `flowsim compare` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from flowsim.stats import paired_difference

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "band",
    "cost_and_income",
    "delayed_beds",
    "flow_differences",
    "flow_links",
    "occupancy_by_pool",
    "organisation_totals",
    "patient_flows",
    "sensitivity",
    "site_occupancy",
    "sweep_curve",
]

# A payment (a row of the `flows` table: date, payer, payee, rule, item, pounds, one row per
# payment per day) is income to its payee. An organisation's cost is what it bears in the
# `spend` table; its surplus is income minus cost, or, where the run kept its accounts (the
# `finance` table), budget + income - payments - cost. Payments between organisations of
# the system cancel out, so the system as one budget is the sum of the costs.
PAYMENT_COLUMNS = ("date", "payer", "payee", "rule", "item", "pounds")


def band(frame: pd.DataFrame, value: str, by: Sequence[str] = ()) -> pd.DataFrame:
    """Per scenario, date (and `by`): the mean over replications and the band from the lowest
    to the highest replication; `n` replications. `frame` holds one value per replication."""
    keys = ["scenario", *by, "date"]
    grouped = frame.groupby(keys, observed=True, sort=True)[value]
    out = grouped.agg(mean="mean", low="min", high="max", n="count").reset_index()
    return out


def _per_replication(frame: pd.DataFrame, value: str, by: Sequence[str]) -> pd.DataFrame:
    """Sum `value` within each run, date and `by` (e.g. over ward groups or pathways)."""
    keys = ["scenario", "replication", *by, "date"]
    return frame.groupby(keys, observed=True, sort=False)[value].sum().reset_index()


def site_occupancy(occupancy: pd.DataFrame, site: str | None = None) -> pd.DataFrame:
    """Daily acute occupancy (beds in use / beds available) of one site or, with None, all
    sites together, one value per run and day."""
    acute = occupancy[occupancy["pool"] == "acute"]
    if site is not None:
        acute = acute[acute["site"] == site]
    summed = acute.groupby(["scenario", "replication", "date"], observed=True)[["occupied", "capacity"]].sum()
    summed = summed[summed["capacity"] > 0]
    summed["occupancy"] = summed["occupied"] / summed["capacity"]
    return summed.reset_index()


def occupancy_by_pool(occupancy: pd.DataFrame, pools: Sequence[str]) -> pd.DataFrame:
    """Daily occupancy of community pools (community beds, reablement, …), one value per run,
    pool and day."""
    rows = occupancy[occupancy["pool"].isin(pools)]
    summed = rows.groupby(["scenario", "replication", "pool", "date"], observed=True)[
        ["occupied", "capacity"]
    ].sum()
    summed = summed[summed["capacity"] > 0]
    summed["occupancy"] = summed["occupied"] / summed["capacity"]
    return summed.reset_index()


def delayed_beds(delays: pd.DataFrame, by: str) -> pd.DataFrame:
    """Delayed acute beds per run, day and `by` ('pathway' or 'responsible_organisation')."""
    return _per_replication(delays, "beds", [by])


def organisation_totals(results_kpis: pd.DataFrame, organisations: Sequence[str]) -> pd.DataFrame:
    """Spend per organisation over the measured window, one row per run and organisation,
    from the kpis table's `spend_<organisation>` columns (and `spend_total` as 'system')."""
    columns = {f"spend_{org}": org for org in organisations if f"spend_{org}" in results_kpis.columns}
    if "spend_total" in results_kpis.columns:
        columns["spend_total"] = "system"
    long = results_kpis[["scenario", "replication", *columns]].melt(
        id_vars=["scenario", "replication"], var_name="column", value_name="pounds"
    )
    long["organisation"] = long["column"].map(columns)
    return long.drop(columns="column")


def cost_and_income(
    spend: pd.DataFrame, flows: pd.DataFrame | None, finance: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per run and organisation over the window: cost, income and surplus.

    With the `finance` table (flowsim.payments), its own accounts: budget from outside
    (allocation), income, payments, cost and surplus = allocation + income − payments −
    cost, so a commissioner's surplus counts the budget it spends. Without it, cost (the
    spend it bears), income (payments received) and surplus (income − cost); income and
    surplus are NaN without payments."""
    keys = ["scenario", "replication", "organisation"]
    if finance is not None:
        columns = ["allocation", "income", "payments", "cost", "surplus"]
        return finance.groupby(keys, observed=True)[columns].sum().reset_index()
    cost = spend.groupby(keys, observed=True)["pounds"].sum()
    out = cost.rename("cost").to_frame()
    if flows is not None:
        income = flows.groupby(["scenario", "replication", "payee"], observed=True)["pounds"].sum()
        income.index = income.index.set_names("organisation", level="payee")
        out = out.join(income.rename("income"), how="outer").fillna({"cost": 0.0, "income": 0.0})
        out["surplus"] = out["income"] - out["cost"]
    else:
        out["income"] = np.nan
        out["surplus"] = np.nan
    return out.reset_index()


def paired_change(values: pd.DataFrame, value: str, by: str, scenario: str, baseline: str) -> pd.DataFrame:
    """Per `by` group: scenario − baseline, paired replication by replication, with its 95%
    interval (`flowsim.stats.paired_difference`)."""
    rows = []
    for group, frame in values.groupby(by, observed=True, sort=True):
        s = frame[frame["scenario"] == scenario].set_index("replication")[value]
        b = frame[frame["scenario"] == baseline].set_index("replication")[value]
        common = sorted(set(s.index) & set(b.index))
        if not common:
            continue
        d = paired_difference(s.loc[common].to_numpy(float), b.loc[common].to_numpy(float)).difference
        rows.append({by: group, "difference": d.mean, "lower": d.lower, "upper": d.upper, "n": d.n})
    import pandas as pd

    return pd.DataFrame(rows, columns=[by, "difference", "lower", "upper", "n"])


# Where people went, as the Sankey shows it: (source, target) of each link.
FLOW_LINKS: tuple[tuple[str, str], ...] = (
    ("GP consultations", "Managed in general practice"),
    ("GP consultations", "A&E attendances"),
    ("GP consultations", "Admitted to an acute bed"),
    ("Walk-in", "A&E attendances"),
    ("Ambulance", "A&E attendances"),
    ("A&E attendances", "Home from A&E"),
    ("A&E attendances", "Admission avoided (virtual ward)"),
    ("A&E attendances", "Admitted to an acute bed"),
    ("Planned (elective)", "Admitted to an acute bed"),
    ("Admitted to an acute bed", "P0: home, no new support"),
    ("Admitted to an acute bed", "P1: home with support"),
    ("Admitted to an acute bed", "P2: community bed"),
    ("Admitted to an acute bed", "P3: care home"),
    ("Admitted to an acute bed", "Died in hospital"),
    ("P0: home, no new support", "Readmitted within 30 days"),
    ("P1: home with support", "Readmitted within 30 days"),
    ("P2: community bed", "Readmitted within 30 days"),
    ("P3: care home", "Readmitted within 30 days"),
)
_PATHWAY_NODES = {
    "p0": "P0: home, no new support",
    "p1": "P1: home with support",
    "p2": "P2: community bed",
    "p3": "P3: care home",
}


def patient_flows(kpis: pd.DataFrame, daily: pd.DataFrame | None) -> pd.DataFrame:
    """Each link's size (people) per run over the measured window: one row per run, one
    column per link ('source → target').

    From the kpis table, with the arrival routes from the daily table's measured days. Live
    discharges split by pathway share; readmissions (a rate over all live discharges) are
    drawn from each pathway in proportion to its discharges, as the results hold no
    readmission rate by pathway.
    """
    import pandas as pd

    k = kpis.set_index(["scenario", "replication"])
    zero = pd.Series(0.0, index=k.index)

    def col(name: str) -> pd.Series:
        return k[name].astype(float).fillna(0.0) if name in k.columns else zero

    routes = {"ae_gp_referrals": zero, "ae_walk_in": zero, "ae_ambulance_arrivals": zero}
    if daily is not None:
        window = daily[~daily["warmup"]]
        sums = window.groupby(["scenario", "replication"])[list(routes)].sum()
        routes = {name: sums[name].reindex(k.index).fillna(0.0).astype(float) for name in routes}
    direct = col("direct_admissions")
    ae_admitted = (col("emergency_admissions") - direct).clip(lower=0.0)
    avoided = col("admissions_avoided")
    attendances = col("ae_attendances")
    live = (col("acute_discharges") - col("deaths_in_hospital")).clip(lower=0.0)
    readmitted = col("readmissions_30d_pct") / 100.0
    links = {
        ("GP consultations", "Managed in general practice"): (
            col("gp_consultations") - routes["ae_gp_referrals"] - direct
        ).clip(lower=0.0),
        ("GP consultations", "A&E attendances"): routes["ae_gp_referrals"],
        ("GP consultations", "Admitted to an acute bed"): direct,
        ("Walk-in", "A&E attendances"): routes["ae_walk_in"],
        ("Ambulance", "A&E attendances"): routes["ae_ambulance_arrivals"],
        ("A&E attendances", "Home from A&E"): (attendances - ae_admitted - avoided).clip(lower=0.0),
        ("A&E attendances", "Admission avoided (virtual ward)"): avoided,
        ("A&E attendances", "Admitted to an acute bed"): ae_admitted,
        ("Planned (elective)", "Admitted to an acute bed"): col("elective_admissions"),
        ("Admitted to an acute bed", "Died in hospital"): col("deaths_in_hospital"),
    }
    for key, node in _PATHWAY_NODES.items():
        on_pathway = live * col(f"pathway_share_{key}")
        links[("Admitted to an acute bed", node)] = on_pathway
        links[(node, "Readmitted within 30 days")] = on_pathway * readmitted
    frame = pd.DataFrame({f"{s} → {t}": links[(s, t)] for s, t in FLOW_LINKS})
    return frame.reset_index()


def flow_links(flows: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """The Sankey's links for one scenario: source, target and mean size over replications."""
    import pandas as pd

    means = flows[flows["scenario"] == scenario].drop(columns=["scenario", "replication"]).mean()
    rows = [{"source": s, "target": t, "people": float(means[f"{s} → {t}"])} for s, t in FLOW_LINKS]
    return pd.DataFrame(rows)


def flow_differences(flows: pd.DataFrame, scenario: str, baseline: str) -> pd.DataFrame:
    """Each link: scenario − baseline, paired by replication, with its 95% interval."""
    long = flows.melt(id_vars=["scenario", "replication"], var_name="link", value_name="people")
    return paired_change(long, "people", "link", scenario, baseline)


def sweep_curve(frame: pd.DataFrame, kpi: str, x: str, bins: int = 10) -> pd.DataFrame:
    """A KPI against one swept parameter: per value of the parameter (binned into `bins`
    equal-count groups when it takes more values than that), the mean with its 95% interval
    over the runs at it."""
    from flowsim.stats import mean_ci

    data = frame[[x, kpi]].dropna()
    key = data[x]
    if key.nunique() > bins:
        import pandas as pd

        groups = pd.qcut(key, bins, duplicates="drop")
        key = groups.map(lambda interval: interval.mid).astype(float)
    rows = []
    for value, values in data[kpi].groupby(key, sort=True):
        ci = mean_ci(values.to_numpy(float))
        low, high = (ci.lower, ci.upper) if ci.n > 1 else (ci.mean, ci.mean)
        rows.append({x: float(value), "mean": ci.mean, "low": low, "high": high, "n": ci.n})
    import pandas as pd

    return pd.DataFrame(rows, columns=[x, "mean", "low", "high", "n"])


def sensitivity(frame: pd.DataFrame, kpi: str, parameters: Sequence[str]) -> pd.DataFrame:
    """How strongly each swept parameter moves a KPI: standardised regression coefficients
    (the KPI's change, in standard deviations, per standard deviation of the parameter,
    others held fixed), ranked by size; `r2` is the share of the KPI's variation the
    straight-line fit explains (a low r2: read the ranking with care)."""
    import pandas as pd

    data = frame[[*parameters, kpi]].dropna()
    varying = [p for p in parameters if data[p].std() > 0]
    empty = pd.DataFrame(columns=["parameter", "coefficient", "r2"])
    if not varying or len(data) <= len(varying) or data[kpi].std() == 0:
        return empty
    x = ((data[varying] - data[varying].mean()) / data[varying].std()).to_numpy(float)
    y = ((data[kpi] - data[kpi].mean()) / data[kpi].std()).to_numpy(float)
    design = np.column_stack([np.ones(len(y)), x])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ coefficients
    r2 = 1.0 - float(np.sum((y - fitted) ** 2)) / float(np.sum((y - y.mean()) ** 2))
    out = pd.DataFrame({"parameter": varying, "coefficient": coefficients[1:], "r2": r2})
    return out.reindex(out["coefficient"].abs().sort_values(ascending=False).index).reset_index(drop=True)
