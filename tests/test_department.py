"""The A&E department's calendar (flowsim/_core/department_reference.py), tested against
both implementations: the rules on small hand-made cases, then random streams on which
the compiled department must match its twin bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flowsim._core import CompiledDepartment, PythonDepartment
from tests.conftest import compiled

pytestmark = pytest.mark.core


def compiled_department():
    return compiled(CompiledDepartment, "department")


@pytest.fixture(params=["python", "compiled"])
def Department(request):
    return PythonDepartment if request.param == "python" else compiled_department()


def bound(department, n):
    """Columns for n attendances (handover, decision, departure), bound to the department."""
    times = tuple(np.full(n, np.nan) for _ in range(3))
    department.bind(*times)
    return times


def attend(department, arrival, *, site=None, ambulance=None, triage=None, assess, treat=None, admit=None):
    n = len(arrival)
    zeros = np.zeros(n)
    department.attend(
        np.arange(n),
        np.zeros(n, np.int64) if site is None else np.asarray(site),
        np.zeros(n, bool) if ambulance is None else np.asarray(ambulance, bool),
        np.asarray(arrival, np.float64),
        zeros if triage is None else np.asarray(triage, np.float64),
        np.asarray(assess, np.float64),
        zeros if treat is None else np.asarray(treat, np.float64),
        np.zeros(n, bool) if admit is None else np.asarray(admit, bool),
    )


def test_a_decision_to_admit_stops_the_calendar_at_its_time(Department):
    department = Department([[1] * 24], None)
    handover, decision, departure = bound(department, 2)
    attend(department, [1.0, 1.5], assess=[0.5, 0.5], treat=[1.0, 1.0], admit=[True, False])
    assert department.advance(10.0) == 0 and department.now == 2.5 and decision[0] == 2.5
    assert np.isnan(departure[0])  # boarding until the model says they leave
    assert department.advance(4.0) == -1
    assert decision[1] == departure[1] == 3.0  # seen when the first's assessment ended at 2.0
    department.leave(0, 4.0)
    assert departure[0] == 4.0
    with pytest.raises(ValueError, match="row 0 is not a patient decided for admission"):
        department.leave(0, 5.0)


def test_a_boarder_keeps_the_cubicle_and_the_next_crew_waits_for_it(Department):
    department = Department([[5] * 24], [1], math.inf)
    handover, decision, departure = bound(department, 2)
    attend(
        department,
        [1.0, 1.2],
        ambulance=[True, True],
        assess=[0.5, 0.5],
        treat=[0.5, 0.5],
        admit=[True, False],
    )
    assert department.advance(30.0) == 0  # decided at 2.0, boards
    assert department.advance(7.0) == -1
    assert handover[0] == 1.0 and np.isnan(handover[1])  # the second crew still waits
    department.leave(0, 7.0)
    assert handover[1] == 7.0
    assert department.advance(30.0) == -1 and departure[1] == 8.0


def test_a_crew_hands_over_into_a_corridor_after_the_limit(Department):
    department = Department([[5] * 24], [1], 0.5)
    handover, _, departure = bound(department, 3)
    attend(department, [1.0, 1.25, 1.5], ambulance=[True] * 3, assess=[0.25] * 3, admit=[True, False, False])
    assert department.advance(30.0) == 0
    assert department.advance(3.0) == -1
    assert handover.tolist() == [1.0, 1.75, 2.0] and department.in_cubicles == [1]
    department.leave(0, 3.0)
    assert department.in_cubicles == [0]  # the corridor patients held none


def test_a_reinforced_rota_sees_the_queue_at_once(Department):
    department = Department([[1] * 24, [1] * 24], [1, 1])
    _, decision, _ = bound(department, 3)
    attend(department, [0.5, 0.5, 0.5], site=[0, 0, 0], assess=[4.0] * 3)
    department.advance(1.0)
    department.reinforce(0, [2] * 24, 0, 1.0)
    assert department.advance(20.0) == -1
    assert decision.tolist() == [4.5, 5.0, 5.0]
    assert department.rota[0] == [3] * 24 and department.rota[1] == [1] * 24


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda d: d.attend([0], [2], [False], [1.0], [0.0], [1.0], [0.0], [False]),
            "site out of range 0..0",
        ),
        (
            lambda d: d.attend([5], [0], [False], [1.0], [0.0], [1.0], [0.0], [False]),
            "within the bound columns",
        ),
        (lambda d: d.attend([0, 1], [0], [False], [1.0], [0.0], [1.0], [0.0], [False]), "of one length"),
        (lambda d: d.reinforce(0, [1] * 23, 0, 0.0), "24 counts"),
        (lambda d: d.reinforce(3, [1] * 24, 0, 0.0), "site out of range"),
        (lambda d: d.leave(0, 0.0), "row 0 is not a patient decided"),
        (lambda d: d.attend([0], [0], [False], [1.0], [-0.1], [1.0], [0.0], [False]), "finite and 0 or more"),
        (
            lambda d: d.attend([0], [0], [False], [1.0], [0.0], [np.nan], [0.0], [False]),
            "finite and 0 or more",
        ),
        (lambda d: d.attend([0], [0], [False], [np.nan], [0.0], [1.0], [0.0], [False]), "must be finite"),
        (
            lambda d: d.attend(
                [1, 1], [0, 0], [False] * 2, [1.0] * 2, [0.0] * 2, [1.0] * 2, [0.0] * 2, [False] * 2
            ),
            "distinct",
        ),
        (lambda d: d.bind(np.zeros(2, np.float32), np.zeros(2), np.zeros(2)), "float64 columns"),
        (lambda d: d.on_duty(-1), "site out of range"),
    ],
)
def test_bad_calls_get_the_same_error_from_both(Department, call, message):
    department = Department([[1] * 24], [1])
    bound(department, 2)
    with pytest.raises(ValueError, match=message):
        call(department)


def test_a_patient_leaves_only_after_a_decision_to_admit_and_rows_stay_bound(Department):
    """Somebody still waiting for a cubicle or a clinician cannot be sent on their way, a
    row cannot be in the department twice, and the columns cannot shrink under it."""
    department = Department([[1] * 24], [1], math.inf)
    bound(department, 3)
    attend(department, [1.0, 1.1, 1.2], ambulance=[True] * 3, assess=[1.0] * 3, admit=[True] * 3)
    assert department.advance(1.5) == -1  # the first is being seen, two crews wait
    for row in (0, 1, 2):
        with pytest.raises(ValueError, match=f"row {row} is not a patient decided for admission"):
            department.leave(row, 1.5)
    with pytest.raises(ValueError, match="row 1 is already in the department"):
        department.attend([1], [0], [False], [2.0], [0.0], [1.0], [0.0], [False])
    with pytest.raises(ValueError, match="must hold every row attended"):
        department.bind(np.zeros(2), np.zeros(2), np.zeros(2))
    assert department.advance(30.0) == 0
    with pytest.raises(ValueError, match="before now"):
        department.leave(0, 1.0)
    department.leave(0, department.now)
    assert [list(q) for q in department.crews] == [[2]]  # the cubicle went to the next crew


def test_an_arrival_before_now_is_refused(Department):
    department = Department([[1] * 24], None)
    bound(department, 2)
    department.advance(5.0)
    with pytest.raises(ValueError, match="before now"):
        attend(department, [1.0], assess=[1.0])


# ------------------------------------------------------------------ random streams, twin vs compiled
def drive(Department, seed: int, days: int = 4):
    """A random department driven as the model drives it: a day of attendances at each
    midnight, the calendar advanced to a random stop, boarders leaving at random later
    times, a rota reinforced once. Returns every time written and each decision's order."""
    rng = np.random.default_rng(seed)
    n_sites = int(rng.integers(1, 4))
    rota = [rng.integers(0, 4, 24).tolist() for _ in range(n_sites)]
    cubicles = rng.integers(0, 4, n_sites).tolist() if rng.random() < 0.7 else None
    cohort = float(rng.choice([0.0, 0.4, 1.5, math.inf]))
    department = Department(rota, cubicles, cohort)
    per_day = int(rng.integers(5, 60))
    n = per_day * days
    columns = tuple(np.full(n, np.nan) for _ in range(3))
    department.bind(*columns)
    leaving: list[tuple[float, int]] = []
    decided = []
    for day in range(days):
        rows = np.arange(day * per_day, (day + 1) * per_day)
        arrival = day * 24.0 + np.sort(rng.uniform(0.0, 24.0, per_day))
        arrival[rng.random(per_day) < 0.1] = day * 24.0 + 3.0  # ties
        department.attend(
            rows,
            rng.integers(0, n_sites, per_day),
            rng.random(per_day) < 0.4,
            arrival,
            rng.exponential(0.2, per_day),
            rng.exponential(0.8, per_day),
            rng.exponential(1.5, per_day),
            rng.random(per_day) < 0.3,
        )
        if day == 1:
            department.reinforce(
                int(rng.integers(0, n_sites)), rng.integers(0, 3, 24).tolist(), 1, day * 24.0
            )
        end = (day + 1) * 24.0
        while True:
            stop = min([end] + [t for t, _ in leaving])
            row = department.advance(stop)
            if row >= 0:
                decided.append((row, department.now))
                leaving.append((department.now + float(rng.choice([0.0, rng.exponential(5.0)])), row))
                continue
            if stop == end:
                break
            leaving.sort()
            t, row = leaving.pop(0)
            department.leave(row, t)
    queues = [list(q) for q in department.waiting] + [list(q) for q in department.crews]
    state = (
        department.busy,
        queues,
        department.in_cubicles,
        department.rota,
        department.cubicles,
        department.events,
    )
    return columns, decided, state


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_department_matches_its_twin_bit_for_bit(seed):
    compiled = compiled_department()
    a, decided_a, state_a = drive(PythonDepartment, seed)
    b, decided_b, state_b = drive(compiled, seed)
    for x, y in zip(a, b, strict=True):
        assert x.tobytes() == y.tobytes()
    assert decided_a == decided_b and state_a == state_b
    assert np.isfinite(a[1]).any()
