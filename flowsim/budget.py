"""The local authority's care budget: home-care packages and care-home places bought at prices.

A council buys places, not outcomes: its budget for home care and care homes is what the
places cost at the prices it pays (`payments.purchase.home_care_day`, `care_home_day`)
over a year. A change of the budget, or of a price, changes how many places it buys; the pools'
capacities follow (see Pools.capacity_schedule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from flowsim.config.schema import FlowsimConfig, SocialCareBudget


def care_budgets(config: FlowsimConfig) -> dict[str, float]:
    """Pounds a year that buy each pool's places at the configured capacity and prices."""
    prices, care = config.payments.purchase, config.social_care
    return {
        "home_care": care.home_care_packages * prices.home_care_day * 365.0,
        "care_home": care.care_home_places * prices.care_home_day * 365.0,
    }


def care_capacity_factors(
    config: FlowsimConfig, change: SocialCareBudget, bound: Callable[[Any], Any] | None = None
) -> dict[str, float]:
    """Each pool's capacity after the change as a multiple of before (may be below 0 when a
    cut falls on a pool beyond its budget; the schema refuses that).

    `bound` (schema.highest or schema.lowest) reads an uncertain budget change at that end
    of its range, and the price changes at the other end, for checks made before the draw.
    """
    from flowsim.config.schema import highest, lowest

    budget_change: Any = change.relative_change
    prices: dict[str, Any] = {
        "home_care": change.home_care_price_change,
        "care_home": change.care_home_price_change,
    }
    if bound is not None:
        other = lowest if bound is highest else highest
        budget_change = bound(budget_change)
        prices = {pool: other(p) for pool, p in prices.items()}
    budgets = care_budgets(config)
    total = sum(budgets.values())
    if total <= 0.0:
        return {pool: 1.0 for pool in budgets}  # nothing bought, nothing to change
    home_share = change.home_care_share_of_change
    shares = {
        "home_care": budgets["home_care"] / total if home_share is None else home_share,
        "care_home": budgets["care_home"] / total if home_share is None else 1.0 - home_share,
    }
    factors = {}
    for pool, budget in budgets.items():
        if budget <= 0.0:
            factors[pool] = 1.0
            continue
        pounds = budget + shares[pool] * float(budget_change) * total
        factors[pool] = pounds / (budget * (1.0 + float(prices[pool])))
    return factors


def purchase_price_factors(config: FlowsimConfig, days: int) -> dict[str, np.ndarray]:
    """Each day's factor on the council's price of a home-care and a care-home day
    (payments.purchase): the social-care budgets' price changes, ramped in as the places
    they buy are (Pools.capacity_schedule), so the council pays the new price for the
    places it can afford."""
    from flowsim.config.schema import SocialCareBudget

    day = np.arange(days)
    factors = {"home_care_day": np.ones(days), "care_home_day": np.ones(days)}
    for change in config.interventions:
        if not isinstance(change, SocialCareBudget):
            continue
        ramp = max(change.ramp_days, 1)
        done = np.clip(day - change.start_day + 1, 0, ramp) / ramp
        factors["home_care_day"] *= 1.0 + float(change.home_care_price_change) * done
        factors["care_home_day"] *= 1.0 + float(change.care_home_price_change) * done
    return factors
