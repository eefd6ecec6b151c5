"""Payment: who pays whom, under which rule, and each organisation's accounts.

The system boundary is the footprint. Money enters only as the commissioners' budgets
(the CCG's from NHS England, the council's from government and council tax: external
`allocation` flows) and leaves only as the providers' costs (flowsim.costs). Every other
flow is between two organisations of the footprint, so it is one's income and the
other's payment, and such flows net to zero every day. Hence, under any payment rule, the
organisations' surpluses add up to the budgets less the system's cost: the rule decides
who gains and who loses, not how much is spent.

Rules: `tariff` (a national price per unit of activity), `block` (a fixed sum a day),
`purchase` (the council's price per place-day in use), `commission` (an intervention's
running cost, paid by its payer to its provider) and, with `payments.budget: pooled`
("one system, one budget"), `pooled`: the commissioners put their budgets into one pool,
which pays every provider its cost on the day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowsim.budget import purchase_price_factors
from flowsim.config.schema import PURCHASE_PAYS_FOR, TARIFF_PAYS_FOR, FlowsimConfig
from flowsim.costs import SpendItem, daily_rows, paid_running_costs
from flowsim.vocabulary import ACCOUNT_HOLDERS, COMMISSIONERS, FUNDER_OF, ORGANISATIONS, SYSTEM_BUDGET

# The activity each price counts: units for the tariff, place-days in use for purchase.
UNITS = {
    "ae_attendance": "ae_attendances",
    "ambulance_conveyance": "ae_ambulance_arrivals",
    "non_elective_spell": "emergency_admissions",
    "elective_spell": "elective_admissions",
    "excess_bed_day": "excess_bed_days",
    "home_care_day": "home_care_bed_days",
    "care_home_day": "care_home_bed_days",
    "reablement_day": "reablement_bed_days",
}
# Price -> (the cost item whose provider it pays, the activity it counts).
TARIFF_ITEMS = {name: (cost, UNITS[name]) for name, cost in TARIFF_PAYS_FOR.items()}
PURCHASE_ITEMS = {name: (cost, UNITS[name]) for name, cost in PURCHASE_PAYS_FOR.items()}
ALLOCATION = "allocation"
ACCOUNTS = ("allocation", "income", "payments", "cost", "surplus")


@dataclass(frozen=True)
class Flow:
    """Money paid each day by one organisation (or a funder outside) to another."""

    payer: str
    payee: str
    rule: str
    item: str
    pounds: np.ndarray  # one value a day
    intervention: str | None = None


def payment_flows(
    config: FlowsimConfig, activity: dict[str, np.ndarray], items: list[SpendItem], days: int
) -> list[Flow]:
    """Every payment of each day: the budgets coming in, then the contracts (or the pool)."""
    p = config.payments
    people = config.population.size

    def a_day(per_person_a_year: float) -> np.ndarray:
        return np.full(days, per_person_a_year * people / 365.0)

    budgets = {c: a_day(p.allocation_per_person_a_year[c]) for c in COMMISSIONERS}
    flows = [Flow(FUNDER_OF[c], c, ALLOCATION, ALLOCATION, budgets[c]) for c in COMMISSIONERS]
    if p.budget == "pooled":
        flows += [Flow(c, SYSTEM_BUDGET, "pooled", ALLOCATION, budgets[c]) for c in COMMISSIONERS]
        return flows + _pooled(items, days)
    costs = config.costs
    price_factor = purchase_price_factors(config, days)  # a social-care budget's price changes
    # In the vocabulary's order, not the config's: a config read back from a manifest
    # (keys sorted) must give the same table.
    for org in (o for o in ORGANISATIONS if o in p.contracts):
        contract = p.contracts[org]
        if contract.rule == "block":
            assert contract.per_person_a_year is not None  # the schema checks it
            flows.append(Flow(contract.payer, org, "block", "block", a_day(contract.per_person_a_year)))
            continue
        prices, priced = (
            (p.tariff, TARIFF_ITEMS) if contract.rule == "tariff" else (p.purchase, PURCHASE_ITEMS)
        )
        for name, (cost_item, units) in priced.items():
            cost = getattr(costs, cost_item)
            price = getattr(prices, name)
            if cost is None or cost.provider != org or price is None:
                continue
            pounds = price * np.asarray(activity[units], dtype=np.float64)
            if contract.rule == "purchase":
                pounds = pounds * price_factor.get(name, 1.0)
            flows.append(Flow(contract.payer, org, contract.rule, name, pounds))
    for payer, item in paid_running_costs(config, days):
        if item.organisation != payer:
            flows.append(
                Flow(payer, item.organisation, "commission", item.item, item.pounds, item.intervention)
            )
    return flows


def _pooled(items: list[SpendItem], days: int) -> list[Flow]:
    """The pool pays each provider each item's cost (fixed and variable parts together)."""
    owed: dict[tuple[str, str, str | None], np.ndarray] = {}
    for item in items:
        key = (item.organisation, item.item, item.intervention)
        owed[key] = owed.get(key, np.zeros(days)) + item.pounds
    return [
        Flow(SYSTEM_BUDGET, org, "pooled", name, pounds, lever) for (org, name, lever), pounds in owed.items()
    ]


def accounts(flows: list[Flow], items: list[SpendItem], days: int) -> dict[str, dict[str, np.ndarray]]:
    """Each organisation's day: allocation (budget from outside), income (from others in
    the footprint), payments (to others), cost (its own provision) and surplus = allocation
    + income - payments - cost (negative: a deficit)."""
    books = {org: {name: np.zeros(days) for name in ACCOUNTS} for org in ACCOUNT_HOLDERS}
    external = set(FUNDER_OF.values())
    for flow in flows:
        if flow.payer in external:
            books[flow.payee]["allocation"] += flow.pounds
        else:
            books[flow.payer]["payments"] += flow.pounds
            books[flow.payee]["income"] += flow.pounds
    for item in items:
        books[item.organisation]["cost"] += item.pounds
    for b in books.values():
        b["surplus"] = b["allocation"] + b["income"] - b["payments"] - b["cost"]
    return books


def flow_rows(flows: list[Flow], dates: np.ndarray) -> dict[str, np.ndarray]:
    """The flows table's columns: one row per day and payment."""
    return daily_rows(flows, dates, ("payer", "payee", "rule", "item", "intervention"))


def finance_rows(books: dict[str, dict[str, np.ndarray]], dates: np.ndarray) -> dict[str, np.ndarray]:
    """The finance table's columns: one row per day and organisation."""
    orgs = list(books)
    out: dict[str, np.ndarray] = {
        "date": np.repeat(dates, len(orgs)),
        "organisation": np.tile(np.array(orgs, dtype=object), dates.size),
    }
    for name in ACCOUNTS:
        out[name] = np.stack([books[o][name] for o in orgs], axis=1).ravel()
    return out
