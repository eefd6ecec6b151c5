"""The shared infrastructure services are built on: dates, catchments, growable logs, the
clock shared by SimPy and the core, the ledger of places, and the registry of draw slots."""

from __future__ import annotations

import ast
import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from flowsim._core import DEPARTED, MOVED
from flowsim.catchment import Catchment
from flowsim.dates import Dates
from flowsim.draw_slots import DailyDraw, EpisodeDraw
from flowsim.tables import Columns
from flowsim.vocabulary import Origin

pytestmark = pytest.mark.unit
PACKAGE = Path(__file__).resolve().parents[1] / "flowsim"


def test_dates_know_weekdays_and_months_of_hours():
    dates = Dates(dt.date(2016, 3, 30), total_days=5)  # a Wednesday
    assert dates.weekday(0) == 2 and dates.weekday(4) == 6
    assert dates.date(2) == dt.date(2016, 4, 1)
    assert dates.month_index(np.array([0.0, 47.9, 48.0, 100.0])).tolist() == [2, 2, 3, 3]


def test_catchment_gives_practices_to_sites_by_their_shares():
    practice = np.arange(100) % 10
    catchment = Catchment([0.5, 0.3, 0.2], practices=10, practice_of_person=practice)
    assert np.bincount(catchment.site_of_practice).tolist() == [5, 3, 2]
    assert catchment.site_of(np.array([0, 9, 15])).tolist() == [0, 2, 1]  # practices 0, 9, 5
    practice[0] = 9  # a newcomer registers elsewhere: the catchment follows the population's array
    assert catchment.site_of(np.array([0])).tolist() == [2]


def test_columns_grow_without_losing_rows_and_fill_what_is_not_given():
    log = Columns(capacity=2, fill={"score": 0.5}, person=np.int64, score=np.float64, flag=np.bool_)
    for i in range(5):
        log.append(person=i)
    rows = log.extend(person=np.array([10, 11]), flag=np.array([True, False]))
    view = log.view()
    assert rows.tolist() == [5, 6] and log.n == 7
    assert view["person"].tolist() == [0, 1, 2, 3, 4, 10, 11]
    assert view["score"].tolist() == [0.5] * 7
    assert view["flag"].tolist() == [False] * 5 + [True, False]


def test_clock_calls_actions_in_time_order_and_wakes_a_boarder_when_the_bed_frees(clock, pools):
    calls = []
    clock.at_times(np.array([5.0, 1.0, 3.0]), calls.append)
    clock.env.run(until=10.0)
    assert calls == [1, 2, 0]

    site = 0
    capacity = pools.capacities[site]
    for _ in range(capacity):  # fill the site with stays ending at 20h
        clock.admit([site], [0], [10.0], [0.0], [0.0])
    boarder = clock.admit([site], [0], [5.0], [0.0], [0.0])
    bed = clock.wait_for_bed(boarder)
    clock.env.run(until=30.0)
    assert bed.triggered
    moved = clock.take_events()
    assert ((moved["kind"] == MOVED) & (moved["route"] == boarder)).any()


def test_ledger_records_places_and_ends_them_but_never_a_hospital_stay(ledger, population, clock, pools):
    people = np.array([1, 2])
    ledger.start_places(people, pools.index("home_care"), np.array([100.0, 100.0]))
    acute = clock.admit([0], [0], [50.0], [0.0], [0.0])
    ledger.register(acute, 1, Origin.AE_ADMISSION, site=0)
    assert ledger.routes.n == 3
    assert ledger.routes.origin[:3].tolist() == [Origin.RESIDENT, Origin.RESIDENT, Origin.AE_ADMISSION]

    ledger.end_places(1)  # person 1 dies: the package ends, the hospital stay runs on
    assert ledger.routes.ended_early[:3].tolist() == [True, False, False]
    clock.pump()
    events = clock.take_events()
    ended = events["route"][events["kind"] == DEPARTED]
    assert 0 in ended and acute not in ended

    with pytest.raises(RuntimeError, match="out of step"):
        ledger.register(99, 3, Origin.RESIDENT)


def _slot_uses() -> dict[str, set[str]]:
    """Where each keyed-draw slot is used: slot name -> modules."""
    uses: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in ("EpisodeDraw", "DailyDraw", "Draw"):
                    uses[node.attr].add(path.relative_to(PACKAGE).as_posix())
    return uses


def test_every_keyed_draw_has_a_slot_of_its_own():
    """Slots are unique within their space, and each is drawn in one module only, so no two
    quantities can share a random number by accident."""
    assert len({s.value for s in EpisodeDraw}) == len(EpisodeDraw)
    assert len({s.value for s in DailyDraw}) == len(DailyDraw)
    uses = _slot_uses()
    shared = {slot: modules for slot, modules in uses.items() if len(modules) > 1}
    assert not shared, f"slots drawn in more than one module: {shared}"
    unused = {s.name for s in (*EpisodeDraw, *DailyDraw)} - set(uses)
    assert not unused, f"registered but never drawn: {unused}"


def test_no_keyed_draw_uses_a_bare_number_as_its_slot():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("uniform", "normal")
                and len(node.args) == 3
            ):
                assert not isinstance(node.args[2], ast.Constant), f"{path.name}:{node.lineno}"


def test_id_set_operations_give_numpys_arrays():
    """The sorting versions of np.unique used on the day's hot paths give the same arrays,
    dtype included, on empty, tiny and repetitive inputs."""
    from flowsim.arrays import first_occurrences, unique_ids

    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 7, 500):
        for dtype in (np.int64, np.int32, np.int8):
            ids = rng.integers(0, n // 3 + 2, n).astype(dtype)
            expected, first = np.unique(ids, return_index=True)
            got = unique_ids(ids)
            assert got.dtype == expected.dtype and np.array_equal(got, expected)
            assert np.array_equal(first_occurrences(ids), first)


def test_stable_argsort_is_numpys_stable_order_with_ties_nans_or_neither():
    from flowsim.arrays import stable_argsort

    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 9, 3000):
        distinct = rng.random(n)
        tied = np.round(distinct * 5.0)  # many equal keys
        with_nan = np.where(rng.random(n) < 0.1, np.nan, distinct)
        big = rng.integers(-(2**62), 2**62, n)  # too far apart for (key, position)
        for keys in (distinct, tied, with_nan, -distinct, tied.astype(np.int64), tied.astype(np.int8), big):
            assert np.array_equal(stable_argsort(keys), np.argsort(keys, kind="stable"))
        if n:
            assert np.array_equal(stable_argsort(np.array([2**64 - 1, 0, 5], np.uint64)), [1, 2, 0])
