"""The exit-block measures (flowsim/metrics/exit_block.py) on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.metrics import exit_block as eb

pytestmark = pytest.mark.unit
NAN = np.nan


def test_waits_from_decision_to_admit_over_4_hours_count_on_the_day_of_the_decision():
    """Four admitted patients and one sent home: a 3-hour wait, a 5-hour wait that began
    late on day 0 and ended on day 1 (counts on day 0), a 4-hour wait exactly (not over),
    and a patient still waiting at the end of the run for 6 hours (counts)."""
    decision = np.array([2.0, 22.0, 30.0, 40.0, 10.0])
    departure = np.array([5.0, 27.0, 34.0, NAN, 11.0])
    admitted = np.array([True, True, True, True, False])
    wait = eb.dta_wait_hours(decision, departure, admitted, end_h=46.0)
    np.testing.assert_array_equal(wait, [3.0, 5.0, 4.0, 6.0, NAN])
    over = eb.dta_waits_over(decision, departure, admitted, 46.0, eb.DTA_4H, days=2)
    assert over.tolist() == [1.0, 1.0]
    assert eb.dta_waits_over(decision, departure, admitted, 46.0, eb.DTA_12H, days=2).tolist() == [0.0, 0.0]


def test_outlier_bed_days_count_only_beds_of_another_ward_group_not_escalation():
    """Pools: 0 medicine, 1 surgery, 2 escalation. A medical patient on surgery for 36
    hours from hour 12; one on their own ward; one in an escalation bed; a surgical outlier
    on medicine still there at the end (open end); a route outside hospital (-1)."""
    start = np.array([12.0, 0.0, 0.0, 30.0, 0.0])
    end = np.array([48.0, 10.0, 20.0, NAN, 5.0])
    ward = np.array([0, 0, 0, 1, -1])
    bed = np.array([1, 0, 2, 0, -1])
    days = eb.outlier_bed_days(start, end, ward, bed, [2], days=2)
    np.testing.assert_allclose(days, [12.0 / 24.0, (24.0 + 18.0) / 24.0])


def test_escalation_bed_days_sum_the_escalation_pools_occupied_hours():
    occupied = np.array([[100.0, 24.0, 12.0], [100.0, 0.0, 48.0]])
    np.testing.assert_allclose(eb.escalation_bed_days(occupied, [1, 2]), [1.5, 2.0])
    assert eb.escalation_bed_days(occupied, []).tolist() == [0.0, 0.0]


def test_a_site_counts_on_a_day_when_one_of_its_groups_had_a_queue_or_sent_an_outlier():
    """Two sites of two groups (pools 0, 1 and 2, 3), three days. Day 0: site 0's group 1
    has a queue. Day 1: site 1's group 0 sends an outlier. Day 2: both sites' groups queue
    (site 0 counted once although both its groups queued)."""
    queued = np.zeros((3, 4))
    queued[0, 1] = 2.5
    queued[2, [0, 1, 3]] = 1.0
    full = eb.sites_with_a_full_group(queued, [[0, 1], [2, 3]], np.array([30.0, 80.0]), np.array([2, 2]))
    assert full.tolist() == [1.0, 1.0, 2.0]  # the outlier at hour 80 (day 3) is outside


def test_outlier_bed_days_split_stays_across_midnights():
    """Two medical outliers on surgery: 20h to 50h, and from 0h still there at the end."""
    start, end = np.array([20.0, 0.0]), np.array([50.0, NAN])
    outliers = np.array([0, 0]), np.array([1, 1])
    hours = 24.0 * eb.outlier_bed_days(start, end, *outliers, [], days=3)
    np.testing.assert_allclose(hours, [4.0 + 24.0, 24.0 + 24.0, 2.0 + 24.0])


# ------------------------------------------------------------------ in the model

GROUPS = """
acute:
  ward_groups:
    - name: medicine
      bed_share: 0.6
      emergency_share: {"0-15": 0.0, "16-44": 0.6, "45-64": 0.7, "65-74": 0.75, "75-84": 0.8, "85+": 0.85}
      elective_share: {"0-15": 0.0, "16-44": 0.2, "45-64": 0.2, "65-74": 0.2, "75-84": 0.2, "85+": 0.2}
      outlie_to: [surgery]
    - name: surgery
      bed_share: 0.3
      emergency_share: {"0-15": 0.0, "16-44": 0.4, "45-64": 0.3, "65-74": 0.25, "75-84": 0.2, "85+": 0.15}
      elective_share: {"0-15": 0.0, "16-44": 0.8, "45-64": 0.8, "65-74": 0.8, "75-84": 0.8, "85+": 0.8}
      outlie_to: [medicine]
    - name: children
      bed_share: 0.1
      emergency_share: {"0-15": 1.0, "16-44": 0.0, "45-64": 0.0, "65-74": 0.0, "75-84": 0.0, "85+": 0.0}
      elective_share: {"0-15": 1.0, "16-44": 0.0, "45-64": 0.0, "65-74": 0.0, "75-84": 0.0, "85+": 0.0}
  outlier_stay_factor: 1.2
"""
PLAIN = """
acute:
  ward_groups: []
  escalation: null
"""
ONE_GROUP = """
acute:
  escalation: null
  ward_groups:
    - name: general
      bed_share: 1.0
      emergency_share: {"0-15": 1.0, "16-44": 1.0, "45-64": 1.0, "65-74": 1.0, "75-84": 1.0, "85+": 1.0}
      elective_share: {"0-15": 1.0, "16-44": 1.0, "45-64": 1.0, "65-74": 1.0, "75-84": 1.0, "85+": 1.0}
"""


def small_with(tmp_path, name: str, body: str):
    from pathlib import Path

    from flowsim.config import load_config

    root = Path(__file__).resolve().parents[1]
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"extends: {root / 'configs' / 'small.yaml'}\nname: {name}\n{body}", encoding="utf-8")
    return load_config(path, {"run.warmup_days": 5, "run.horizon_days": 25})


@pytest.mark.integration
def test_one_ward_group_per_site_reproduces_the_interchangeable_beds(tmp_path):
    """A config naming a single ward group at every site gives the same run, bit for bit,
    as a config with no ward groups."""
    from flowsim.model import simulate
    from tests.golden.outputs import table_digests

    def digests(output):
        tables = {k: output.tables[k] for k in ("daily", "kpis", "delays", "spend")}
        tables["occupancy"] = output.tables["occupancy"].drop_columns(
            ["ward_group"]
        )  # 'all' or the group's name
        return table_digests(tables)

    plain = simulate(small_with(tmp_path, "plain", PLAIN), 1)
    grouped = simulate(small_with(tmp_path, "grouped", ONE_GROUP), 1)
    assert digests(plain) == digests(grouped)


@pytest.mark.integration
def test_ward_groups_place_outliers_only_where_the_config_allows(tmp_path):
    """With medicine, surgery and children's beds: outliers happen between medicine and
    surgery, each at its own site, and never on or from the children's ward; their days
    are reported."""
    from flowsim.model import WholeSystemModel

    model = WholeSystemModel(small_with(tmp_path, "groups", GROUPS), 1)
    model.run()
    r = model.ledger.routes.view()
    pools = model.pools
    placed = (r["ward_pool"] >= 0) & (r["bed_pool"] >= 0)
    ward, bed = r["ward_pool"][placed], r["bed_pool"][placed]
    outlier = ward != bed
    assert outlier.sum() > 10
    children = [pools.acute(s, 2) for s in range(pools.n_sites)]
    assert not np.isin(ward[outlier], children).any() and not np.isin(bed[outlier], children).any()
    site = pools.site_of_pool()
    assert (site[ward] == site[bed]).all()
    from flowsim.metrics.daily import daily as daily_columns

    daily = daily_columns(model.recorder.logs())
    assert daily["outlier_bed_days"].sum() > 0 and daily["sites_with_a_full_group"].sum() > 0


@pytest.mark.unit
def test_reserve_waiver_reaches_the_core_only_where_a_reserve_is_kept(tmp_path):
    """acute.reserve_waived_after_hours is passed with each outlet that keeps a reserve
    (surgery's, for medical outliers); outlets keeping none, and escalation beds, get none."""
    import math

    from flowsim.pools import Pools

    config = small_with(tmp_path, "waiver", "acute:\n  reserve_waived_after_hours: 9.5\n")
    pools = Pools.from_config(config)
    rules = pools.outlying_rules(config)
    medicine, surgery = pools.acute(0, 0), pools.acute(0, 1)
    by_pair = {(p, q): (kept, after) for p, q, _, kept, after in rules}
    assert by_pair[(medicine, surgery)][0] > 0 and by_pair[(medicine, surgery)][1] == 9.5
    assert by_pair[(surgery, medicine)] == (0, math.inf)
    assert by_pair[(medicine, pools.escalation_pool(0))] == (0, math.inf)
    off = small_with(tmp_path, "waiver_off", "acute:\n  reserve_waived_after_hours: null\n")
    assert all(after == math.inf for *_, after in Pools.from_config(off).outlying_rules(off))


@pytest.mark.integration
def test_waiving_the_surgical_reserve_for_long_waits_shortens_the_longest_waits(tmp_path):
    """Paired seeds: with surgery's reserve waived for a boarder who has waited 4 hours, no
    more decisions to admit wait over 12 hours, and more medical patients outlie."""
    from flowsim.metrics.daily import daily as daily_columns
    from flowsim.model import WholeSystemModel

    def run(body):
        model = WholeSystemModel(small_with(tmp_path, "w", body), 1)
        model.run()
        return daily_columns(model.recorder.logs())

    before = run("acute:\n  reserve_waived_after_hours: null\n")
    after = run("acute:\n  reserve_waived_after_hours: 4.0\n")
    assert after["ae_12h_dta_waits"].sum() <= before["ae_12h_dta_waits"].sum()
    assert after["ae_dta_over_4h"].sum() < before["ae_dta_over_4h"].sum()
    assert after["outlier_bed_days"].sum() > before["outlier_bed_days"].sum()
