"""Money: activity times unit cost, borne by one organisation each, and the system total.

"There is only one sum of money": a change that saves acute bed-days may cost social care
more. Spend is reported by organisation and for the whole system as one budget.
"""

from __future__ import annotations

import numpy as np

from flowsim.config.schema import FlowsimConfig, RunningCost
from flowsim.vocabulary import ORGANISATIONS

# Cost item -> the daily activity column it multiplies.
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


def daily_spend(config: FlowsimConfig, activity: dict[str, np.ndarray], days: int) -> dict[str, np.ndarray]:
    """Spend per day: `spend_<organisation>` for each organisation and `spend_total`."""
    costs = config.costs
    spend = {f"spend_{org}": np.zeros(days) for org in ORGANISATIONS}
    for item, column in ACTIVITY_OF_ITEM.items():
        cost = getattr(costs, item)
        if cost is None:  # an optional item not configured
            continue
        spend[f"spend_{cost.payer}"] += cost.unit_cost * np.asarray(activity[column], dtype=np.float64)
    day = np.arange(days)
    for lever in config.interventions:
        if isinstance(lever, RunningCost):
            end = lever.end_day if lever.end_day is not None else days
            active = (day >= lever.start_day) & (day < end)
            spend[f"spend_{lever.payer}"] += np.where(active, lever.annual_cost / 365.0, 0.0)
    total = np.zeros(days)
    for org in ORGANISATIONS:
        total = total + spend[f"spend_{org}"]
    spend["spend_total"] = total
    return spend
