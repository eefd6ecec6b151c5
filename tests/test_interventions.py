"""Scenario levers on a timeline: they start when configured, ramp, and cost what they say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowsim.config import load_config
from flowsim.model import simulate

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
pytestmark = pytest.mark.integration


def small(interventions, days=30):
    # Interchangeable beds and no escalation, so that a site's beds are exact whole counts.
    return load_config(
        CONFIGS / "small.yaml",
        {
            "run.warmup_days": 5,
            "run.horizon_days": days,
            "interventions": interventions,
            "acute.ward_groups": [],
            "acute.escalation": None,
        },
    )


def daily(output, name):
    return np.asarray(output.tables["daily"].column(name).to_pylist(), dtype=float)


def spend_of(output, organisation):
    """An organisation's spend each day, from the long spend table."""
    spend = output.tables["spend"].to_pandas()
    return spend[spend.organisation == organisation].groupby("date").pounds.sum().to_numpy()


def test_a_bed_cut_ramps_in_from_its_start_day():
    cut = {
        "kind": "capacity",
        "name": "close a ward a day",
        "pool": "acute",
        "site": "north",
        "relative_change": -0.2,
        "start_day": 10,
        "ramp_days": 10,
    }
    out = simulate(small([cut]), 0)
    beds = daily(out, "acute_beds")
    assert beds[:10] == pytest.approx(np.full(10, 225.0))
    assert np.all(np.diff(beds[10:20]) < 0)  # one step down a day while it ramps
    assert beds[-1] == pytest.approx(225 - 18)  # north's 90 beds less 20%


def test_double_running_costs_land_on_the_payer():
    lever = {
        "kind": "running_cost",
        "name": "new community team",
        "payer": "community_provider",
        "annual_cost": 365_000.0,
        "start_day": 10,
        "end_day": 20,
    }
    base = simulate(small([]), 0)
    more = simulate(small([lever]), 0)
    extra = spend_of(more, "community_provider") - spend_of(base, "community_provider")
    assert extra[10:20] == pytest.approx(np.full(10, 1000.0))
    assert extra[:10] == pytest.approx(np.zeros(10))
    assert extra[20:] == pytest.approx(np.zeros(len(extra) - 20))


def test_less_demand_from_care_homes_means_fewer_attendances():
    """Enhanced health in care homes: residents' emergency demand falls."""
    lever = {
        "kind": "demand",
        "name": "enhanced health in care homes",
        "relative_change": -0.5,
        "residence": "care_home",
        "start_day": 0,
    }
    base = simulate(small([]), 0)
    less = simulate(small([lever]), 0)
    assert daily(less, "ae_attendances").sum() < daily(base, "ae_attendances").sum()


def test_a_demand_lever_removes_needs_without_reshuffling_everyone_else():
    """Common random numbers: on the lever's first day (a Saturday, when general practice
    does not ration), people the lever does not touch attend exactly as before, and
    fewer of those it touches attend."""
    lever = {
        "kind": "demand",
        "name": "fewer frail attendances",
        "relative_change": -0.5,
        "min_age_band": "75-84",
        "start_day": 1,
    }
    runs = [simulate(small(levers, days=1), 0, record_episodes=True) for levers in ([], [lever])]
    untouched, touched = [], []
    for out in runs:
        ep = out.tables["episodes"].to_pydict()
        day1 = [i for i, t in enumerate(ep["ae_arrival_h"]) if t is not None and 24 <= t < 48]
        young = {
            ep["person_id"][i]: ep["ae_arrival_h"][i]
            for i in day1
            if ep["age_band"][i] not in ("75-84", "85+")
        }
        untouched.append(young)
        touched.append(sum(ep["age_band"][i] in ("75-84", "85+") for i in day1))
    assert untouched[0] == untouched[1]
    assert touched[1] < touched[0]


def test_capacity_changes_to_one_pool_compound():
    """Ten per cent more beds everywhere and a 20% cut at one site: that site ends at
    1.1 x 0.8 of its beds, whatever order the changes are written in."""
    rise = {"kind": "capacity", "name": "more beds", "pool": "acute", "relative_change": 0.1, "start_day": 2}
    cut = {
        "kind": "capacity",
        "name": "close north ward",
        "pool": "acute",
        "site": "north",
        "relative_change": -0.2,
        "start_day": 4,
        "ramp_days": 2,
    }
    for order in ([rise, cut], [cut, rise]):
        out = simulate(small(order, days=3), 0)
        beds = daily(out, "acute_beds")
        assert beds[1] == pytest.approx(225.0)
        assert beds[2] == pytest.approx(round(90 * 1.1) + round(79 * 1.1) + round(56 * 1.1))
        assert beds[-1] == pytest.approx(round(90 * 1.1 * 0.8) + round(79 * 1.1) + round(56 * 1.1))
