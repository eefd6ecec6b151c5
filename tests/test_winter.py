"""Winter as a mechanism: the wave keeps the year's demand, moves it into winter, and
outbreaks close beds through the same capacity timetable as a planned cut."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from flowsim.config import load_config
from flowsim.config.loader import ConfigError
from flowsim.dates import Dates
from flowsim.model import simulate
from flowsim.pools import Pools
from flowsim.rng import Streams
from flowsim.winter import WinterWave, outbreak_closures, with_closures

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def footprint_winter():
    return load_config(CONFIGS / "footprint.yaml").winter


@pytest.mark.unit
def test_the_wave_moves_demand_into_winter_and_keeps_the_years_total():
    winter = footprint_winter()
    days = 365
    wave = WinterWave(winter, Dates(dt.date(2016, 4, 1), days), days)
    f = wave.factor(0.5, np.arange(days))
    assert f.mean() == pytest.approx(1.0, abs=1e-3)  # a whole year: the calibrated rate is kept
    january, july = f[275:306].mean(), f[91:122].mean()  # from 1 April: January is days 275-305
    assert january > 1.1 > 1.0 > july
    # Only the bands the wave reaches change.
    by_band = wave.by_band(0.5, 280)
    assert by_band[0] == by_band[1] == by_band[2] == 1.0 and by_band[3] == by_band[5] > 1.0


@pytest.mark.unit
def test_closures_come_off_the_planned_beds_and_give_them_back():
    # Pool 0 has 100 beds, cut to 80 on day 5; 10 beds close on days 3-6.
    closed = np.zeros((10, 2), dtype=np.int64)
    closed[3:7, 0] = 10
    steps = with_closures([(5 * 24.0, 0, 80), (2 * 24.0, 1, 7)], [100, 8], closed)
    assert steps == [(48.0, 1, 7), (72.0, 0, 90), (120.0, 0, 70), (168.0, 0, 80)]
    # Without closures the interventions' steps are kept as they were.
    assert with_closures([(24.0, 0, 5)], [4, 4], np.zeros((3, 2), dtype=np.int64)) == [(24.0, 0, 5)]


@pytest.mark.unit
def test_outbreaks_close_medical_beds_mostly_in_winter():
    config = load_config(CONFIGS / "footprint.yaml", {"run.horizon_days": 365 * 3 - 60})
    pools = Pools.from_config(config)
    dates = Dates(config.run.start_date, config.total_days)
    wave = WinterWave(config.winter, dates, config.total_days)
    closed = outbreak_closures(config, pools, wave, Streams(7, 0).generator("outbreaks"))
    medicine = [int(pools.acute(s, 0)) for s in range(pools.n_sites)]
    assert closed[:, [p for p in range(pools.n_acute) if p not in medicine]].sum() == 0
    months = np.array([dates.date(d).month for d in range(closed.shape[0])])
    by_day = closed.sum(axis=1)
    winter, summer = by_day[np.isin(months, (12, 1, 2))].mean(), by_day[np.isin(months, (6, 7, 8))].mean()
    assert winter > 3 * summer and winter > 5  # beds a day, across the footprint
    share = config.winter.outbreaks.max_closed_share
    assert np.all(closed[:, medicine] <= np.floor(np.asarray(pools.capacities)[medicine] * share))


@pytest.mark.unit
def test_outbreaks_follow_the_beds_a_consolidation_moves():
    """A closed site has no beds to close; the site that took its beds has its outbreaks
    (drawn in proportion to the beds planned each day, so the outbreaks stay with the beds)."""
    merge = {
        "kind": "consolidation",
        "name": "south into central",
        "closing_site": "south",
        "receiving_sites": {"central": 1.0},
        "start_day": 100,
    }
    days = {"run.horizon_days": 365 * 3 - 60}
    config = load_config(CONFIGS / "footprint.yaml", {**days, "interventions": [merge]})
    before = load_config(CONFIGS / "footprint.yaml", days)
    pools = Pools.from_config(config)
    wave = WinterWave(config.winter, Dates(config.run.start_date, config.total_days), config.total_days)
    closed = {
        label: outbreak_closures(c, pools, wave, Streams(7, 0).generator("outbreaks"))
        for label, c in (("merged", config), ("three", before))
    }
    south, central = (int(pools.acute(pools.sites.index(name), 0)) for name in ("south", "central"))
    assert closed["three"][100:, south].sum() > 0 and closed["merged"][100:, south].sum() == 0
    assert closed["merged"][100:, central].sum() > closed["three"][100:, central].sum()


@pytest.mark.integration
def test_winter_fills_the_hospital_through_older_peoples_needs():
    # Same seed with and without the wave, over a January on a small footprint.
    def run(winter):
        overrides = {"run.start_date": "2016-12-01", "run.warmup_days": 10, "run.horizon_days": 50}
        if not winter:
            overrides["winter"] = None
        return simulate(load_config(CONFIGS / "small.yaml", overrides), 0)

    on, off = run(True), run(False)

    def total(out, column):
        return float(np.sum(out.tables["daily"].column(column).to_numpy()))

    assert total(on, "ae_ambulance_arrivals") > total(off, "ae_ambulance_arrivals")
    assert total(on, "emergency_admissions") > total(off, "emergency_admissions")
    occupancy = on.tables["occupancy"].to_pandas()
    medicine = occupancy[(occupancy.pool == "acute") & (occupancy.ward_group == "medicine")]
    assert medicine.groupby("date").capacity.sum().min() < medicine.groupby("date").capacity.sum().max()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("winter.peak_day", 31, "winter.peak_day"),
        ("winter.ambulance_rise", -0.1, "winter.ambulance_rise"),
        ("winter.outbreaks.max_closed_share", 1.5, "winter.outbreaks.max_closed_share"),
        ("winter.min_age_band", "60+", "winter.min_age_band"),
    ],
)
def test_a_bad_winter_is_refused_naming_the_key(key, value, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(CONFIGS / "footprint.yaml", {key: value})
