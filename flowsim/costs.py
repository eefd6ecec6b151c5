"""Money: activity times unit cost, borne by one organisation each, and the system total.

"There is only one sum of money": a change that saves acute bed-days may cost social care
more. Spend is reported by item and organisation (the spend table) and for the whole
system as one budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowsim.config.schema import Consolidation, FlowsimConfig, Lever, RunningCost
from flowsim.vocabulary import ORGANISATIONS

# Cost item -> the daily activity it multiplies.
ACTIVITY_OF_ITEM = {
    "ae_attendance": "ae_attendances",
    "ambulance_conveyance": "ae_ambulance_arrivals",
    "non_elective_episode": "emergency_admissions",
    "excess_bed_day": "excess_bed_days",
    "delayed_bed_day": "dtoc_bed_days",
    "elective_episode": "elective_admissions",
    "gp_consultation": "gp_consultations",
    "community_bed_day": "community_beds_bed_days",
    "reablement_day": "reablement_bed_days",
    "home_care_day": "home_care_bed_days",
    "care_home_day": "care_home_bed_days",
    "virtual_ward_day": "virtual_ward_bed_days",
    "escalation_bed_day": "escalation_bed_days",
}
RUNNING_COST = "running_cost"


@dataclass(frozen=True)
class SpendItem:
    """Daily spend of one cost item, borne by one organisation."""

    organisation: str
    item: str
    pounds: np.ndarray  # one value a day
    intervention: str | None = None  # the lever whose running cost this is


def spend_items(config: FlowsimConfig, activity: dict[str, np.ndarray], days: int) -> list[SpendItem]:
    """Spend per day of each unit-cost item (in ACTIVITY_OF_ITEM order), then of each
    intervention's running cost (in the config's order)."""
    costs = config.costs
    items = []
    for item, column in ACTIVITY_OF_ITEM.items():
        cost = getattr(costs, item)
        if cost is None:  # an optional item not configured
            continue
        items.append(
            SpendItem(cost.payer, item, cost.unit_cost * np.asarray(activity[column], dtype=np.float64))
        )
    day = np.arange(days)
    for lever in config.interventions:
        # A service lever's running cost is spent like a RunningCost, from its start day
        # (through any lag before its effect) to its end.
        if isinstance(lever, RunningCost | Lever):
            end = lever.end_day if lever.end_day is not None else days
            active = (day >= lever.start_day) & (day < end)
            pounds = np.where(active, lever.annual_cost / 365.0, 0.0)
            items.append(SpendItem(lever.payer, RUNNING_COST, pounds, lever.name))
        elif isinstance(lever, Consolidation) and lever.annual_saving > 0:
            # The closed site's fixed cost stops once the transition is over: a negative cost.
            active = day >= lever.start_day + lever.transition_days
            pounds = np.where(active, -lever.annual_saving / 365.0, 0.0)
            items.append(SpendItem(lever.payer, RUNNING_COST, pounds, lever.name))
    return items


def spend_by_organisation(items: list[SpendItem], days: int) -> dict[str, np.ndarray]:
    """Spend per day: `spend_<organisation>` for each organisation and `spend_total`."""
    spend = {f"spend_{org}": np.zeros(days) for org in ORGANISATIONS}
    for item in items:
        spend[f"spend_{item.organisation}"] += item.pounds
    total = np.zeros(days)
    for org in ORGANISATIONS:
        total = total + spend[f"spend_{org}"]
    spend["spend_total"] = total
    return spend


def spend_rows(items: list[SpendItem], dates: np.ndarray) -> dict[str, np.ndarray]:
    """The spend table's columns: one row per day and item."""
    n = len(items)
    pounds = np.stack([i.pounds for i in items], axis=1) if n else np.zeros((dates.size, 0))
    return {
        "date": np.repeat(dates, n),
        "organisation": np.tile(np.array([i.organisation for i in items], dtype=object), dates.size),
        "item": np.tile(np.array([i.item for i in items], dtype=object), dates.size),
        "intervention": np.tile(np.array([i.intervention for i in items], dtype=object), dates.size),
        "pounds": pounds.ravel(),
    }
