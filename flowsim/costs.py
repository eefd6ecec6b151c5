"""Cost: what each provider spends to deliver the activity, fixed and variable.

"There is only one sum of money." A provider's cost on a day is the fixed cost of the
capacity it keeps open that day (beds, places and slots open, clinicians on the A&E rota,
appointments offered) plus a variable cost per unit of activity. A capacity cut therefore
saves fixed cost only from the day the places actually close, and a new service costs
from the day it starts. Who pays for the cost is a separate question (flowsim.payments):
the payment rule moves money between organisations but never changes this total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from flowsim.config.schema import Consolidation, FlowsimConfig, Lever, RunningCost
from flowsim.vocabulary import ORGANISATIONS

# Place items: cost item -> the service whose places it costs. The activity holds
# `<service>_places` (place-days open) and `<service>_bed_days` (place-days in use).
PLACE_ITEMS = {
    "acute_bed_day": "acute_ward",
    "escalation_bed_day": "escalation",
    "community_bed_day": "community_beds",
    "reablement_day": "reablement",
    "home_care_day": "home_care",
    "care_home_day": "care_home",
    "virtual_ward_day": "virtual_ward",
}
# Unit items: cost item -> (its activity, the capacity its fixed cost is per, that field).
UNIT_ITEMS: dict[str, tuple[str, str | None, str | None]] = {
    "ae_attendance": ("ae_attendances", "clinician_hours", "fixed_per_clinician_hour"),
    "ambulance_conveyance": ("ae_ambulance_arrivals", "thousand_people", "fixed_per_1000_people_a_day"),
    "non_elective_episode": ("emergency_admissions", None, None),
    "elective_episode": ("elective_admissions", None, None),
    "gp_consultation": ("gp_consultations", "gp_appointments_offered", "fixed_per_appointment"),
}
RUNNING_COST = "running_cost"
FIXED, VARIABLE = "fixed", "variable"


@dataclass(frozen=True)
class SpendItem:
    """Daily cost of one part (fixed or variable) of one item, borne by its provider."""

    organisation: str
    item: str
    part: str  # fixed | variable
    pounds: np.ndarray  # one value a day
    intervention: str | None = None  # the lever whose running cost this is


def spend_items(config: FlowsimConfig, activity: dict[str, np.ndarray], days: int) -> list[SpendItem]:
    """Cost per day of each item's fixed then variable part (unit items, then place items),
    then of each intervention's running cost (in the config's order)."""
    costs = config.costs
    items = []
    for item, (units, capacity, field) in UNIT_ITEMS.items():
        cost = getattr(costs, item)
        if capacity is not None and field is not None:
            fixed = getattr(cost, field) * _column(activity, capacity)
            items.append(SpendItem(cost.provider, item, FIXED, fixed))
        items.append(SpendItem(cost.provider, item, VARIABLE, cost.unit_cost * _column(activity, units)))
    for item, service in PLACE_ITEMS.items():
        place = getattr(costs, item)
        if place is None:  # an optional item not configured
            continue
        open_days = _column(activity, f"{service}_places")
        items.append(SpendItem(place.provider, item, FIXED, place.fixed_per_place_day * open_days))
        used = _column(activity, f"{service}_bed_days")
        items.append(SpendItem(place.provider, item, VARIABLE, place.unit_cost * used))
    items.extend(running_costs(config, days))
    return items


def running_costs(config: FlowsimConfig, days: int) -> list[SpendItem]:
    """Each intervention's yearly cost, a 365th a day from start_day to end_day, borne by
    its provider (its payer if no provider is named)."""
    return [item for _, item in paid_running_costs(config, days)]


def paid_running_costs(config: FlowsimConfig, days: int) -> list[tuple[str, SpendItem]]:
    """Each intervention's running cost with the organisation that pays for it."""
    day = np.arange(days)
    items: list[tuple[str, SpendItem]] = []
    for lever in config.interventions:
        # A service lever's running cost is spent like a RunningCost, from its start day
        # (through any lag before its effect) to its end, by its payer.
        if isinstance(lever, RunningCost | Lever):
            end = lever.end_day if lever.end_day is not None else days
            active = (day >= lever.start_day) & (day < end)
            pounds = np.where(active, lever.annual_cost / 365.0, 0.0)
            provider = getattr(lever, "provider", None) or lever.payer
            items.append((lever.payer, SpendItem(provider, RUNNING_COST, FIXED, pounds, lever.name)))
        elif isinstance(lever, Consolidation) and lever.annual_saving > 0:
            # The closed site's fixed cost stops once the transition is over: a negative cost.
            active = day >= lever.start_day + lever.transition_days
            pounds = np.where(active, -lever.annual_saving / 365.0, 0.0)
            items.append((lever.payer, SpendItem(lever.payer, RUNNING_COST, FIXED, pounds, lever.name)))
    return items


def _column(activity: dict[str, np.ndarray], name: str) -> np.ndarray:
    return np.asarray(activity[name], dtype=np.float64)


def spend_by_organisation(items: list[SpendItem], days: int) -> dict[str, np.ndarray]:
    """Cost per day: `spend_<organisation>` for each organisation and `spend_total`."""
    spend = {f"spend_{org}": np.zeros(days) for org in ORGANISATIONS}
    for item in items:
        spend[f"spend_{item.organisation}"] += item.pounds
    total = np.zeros(days)
    for org in ORGANISATIONS:
        total = total + spend[f"spend_{org}"]
    spend["spend_total"] = total
    return spend


def spend_rows(items: list[SpendItem], dates: np.ndarray) -> dict[str, np.ndarray]:
    """The spend table's columns: one row per day, item and part."""
    return daily_rows(items, dates, ("organisation", "item", "part", "intervention"))


def daily_rows(records: Sequence[Any], dates: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """A long table's columns from records of pounds a day (SpendItem, payments.Flow): one
    row per day and record, in the records' order within each day, with the date, each
    record's `labels` (its attributes of those names) and its pounds that day."""
    n = len(records)
    pounds = np.stack([r.pounds for r in records], axis=1) if n else np.zeros((dates.size, 0))
    columns: dict[str, np.ndarray] = {"date": np.repeat(dates, n)}
    for label in labels:
        columns[label] = np.tile(np.array([getattr(r, label) for r in records], dtype=object), dates.size)
    columns["pounds"] = pounds.ravel()
    return columns
