"""A&E departments on their own calendar: the pure-Python twin of department.pyx.

Each attendance is a row (its row in the attendance log). An ambulance patient asks for
a majors cubicle on arrival and waits for one, first come first served, until one frees
or the department takes them into a corridor after `cohort_after_h`; a walk-in needs no
cubicle. After triage everyone asks for a clinician; clinicians are on an hourly rota and
see patients first come, first served, and one going off duty finishes the patient in
hand. Assessment, then treatment, then the decision. A patient sent home leaves at the
decision and frees their cubicle; a decision to admit stops `advance` so that the model
can find a bed, and `leave` is called when the patient goes (to a ward, or a virtual
ward). Both implementations take the same events in the same order (time, then the
order they were scheduled) and do the same float arithmetic, so they agree bit for bit.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import numpy as np

# Kinds of event on the department's calendar.
ARRIVE = 0  # an ambulance asks for a cubicle
COHORT = 1  # a crew has waited as long as it may: hand over into a corridor
REQUEST = 2  # triage done: ask for a clinician
SEEN = 3  # assessment over: the clinician is free
DECIDE = 4  # treatment over: home, or a decision to admit
HOUR = 5  # the rota changes

_NO_ROW = -1


# -- the arguments' checks, one copy for both implementations --------------------------------
def checked_setup(clinicians_by_hour, cubicles, cohort_after_h: float):
    """(rota by site, cubicles by site, whether cubicles are limited, cohort hours)."""
    rota = [[int(c) for c in hours] for hours in clinicians_by_hour]
    for hours in rota:
        if len(hours) != 24 or min(hours) < 0:
            raise ValueError("clinicians_by_hour needs 24 counts of 0 or more for each site")
    counts = [int(c) for c in cubicles] if cubicles is not None else [0] * len(rota)
    if len(counts) != len(rota) or min(counts, default=0) < 0:
        raise ValueError("cubicles needs a count of 0 or more for each site")
    if not cohort_after_h >= 0.0:
        raise ValueError("cohort_after_h must be 0 or more")
    return rota, counts, cubicles is not None, float(cohort_after_h)


def checked_columns(columns, max_row: int):
    """The three columns `bind` takes, if each is a contiguous float64 vector holding `max_row`."""
    for c in columns:
        if not (isinstance(c, np.ndarray) and c.dtype == np.float64 and c.ndim == 1 and c.flags.c_contiguous):
            raise ValueError("bind needs one-dimensional, contiguous float64 columns")
    if min(c.size for c in columns) <= max_row:
        raise ValueError(f"the bound columns must hold every row attended ({max_row + 1})")
    return columns


def checked_attendances(columns, n_sites: int, now: float, n_bound: int):
    """`attend`'s eight arguments as contiguous arrays (rows and sites int64, hours float64,
    flags bool), or a ValueError naming what is wrong. Whether a row is already in the
    department is left to the caller, which holds that state."""
    columns = [np.asarray(c) for c in columns]
    if len({c.shape for c in columns}) != 1 or columns[0].ndim != 1:
        raise ValueError("attend needs one-dimensional arrays of one length")
    rows, site = (np.ascontiguousarray(c, np.int64) for c in columns[:2])
    arrival_h, triage_h, assess_h, treat_h = (np.ascontiguousarray(c, np.float64) for c in columns[3:7])
    ambulance, admit = (np.ascontiguousarray(c, bool) for c in (columns[2], columns[7]))
    if site.size and (site.min() < 0 or site.max() >= n_sites):
        raise ValueError(f"site out of range 0..{n_sites - 1}")
    if not np.isfinite(arrival_h).all():
        raise ValueError("arrival hours must be finite")
    if arrival_h.size and arrival_h.min() < now:
        raise ValueError(f"an arrival at {arrival_h.min()} is before now ({now})")
    hours = np.concatenate([triage_h, assess_h, treat_h])
    if not (np.isfinite(hours) & (hours >= 0.0)).all():
        raise ValueError("triage, assessment and treatment hours must be finite and 0 or more")
    if rows.size and (rows.min() < 0 or rows.max() >= n_bound):
        raise ValueError("rows must be 0 or more and within the bound columns")
    if np.unique(rows).size != rows.size:
        raise ValueError("rows must be distinct")
    return rows, site, ambulance, arrival_h, triage_h, assess_h, treat_h, admit


def checked_reinforcement(site: int, extra_by_hour, n_sites: int) -> list[int]:
    extra = [int(c) for c in extra_by_hour]
    if len(extra) != 24:
        raise ValueError("extra_by_hour needs 24 counts")
    if not 0 <= site < n_sites:
        raise ValueError(f"site out of range 0..{n_sites - 1}")
    return extra


class Department:
    """Clinicians (by hour) and majors cubicles (a fixed number, or no limit) at each site."""

    def __init__(self, clinicians_by_hour, cubicles, cohort_after_h: float = math.inf):
        self.rota, self.cubicles, self.limited, self.cohort_after_h = checked_setup(
            clinicians_by_hour, cubicles, cohort_after_h
        )
        n = len(self.rota)
        self.busy = [0] * n  # clinicians with a patient in hand
        self.waiting: list[deque[int]] = [deque() for _ in range(n)]
        self.in_cubicles = [0] * n
        self.crews: list[deque[int]] = [deque() for _ in range(n)]  # waiting to hand over
        self.now = 0.0
        self.events = 0  # events taken from the calendar so far
        self._calendar: list[tuple[float, int, int, int]] = []
        self._seq = 0
        self._hour = 0
        self._push(0.0, HOUR, _NO_ROW)
        # Per attendance in the department: site, triage, assessment, treatment hours,
        # whether admitted, whether holding a cubicle, whether a crew is still waiting,
        # whether decided for admission (so it may leave).
        self._rows: dict[int, list] = {}
        self._max_row = -1  # the highest row ever attended: the bound columns must hold it
        self.handover_h = np.empty(0)
        self.decision_h = np.empty(0)
        self.departure_h = np.empty(0)

    # -- what the model calls ----------------------------------------------------------
    def bind(self, handover_h: np.ndarray, decision_h: np.ndarray, departure_h: np.ndarray) -> None:
        """The attendance log's columns the department writes its times into, by row."""
        columns = checked_columns((handover_h, decision_h, departure_h), self._max_row)
        self.handover_h, self.decision_h, self.departure_h = columns

    def attend(self, rows, site, ambulance, arrival_h, triage_h, assess_h, treat_h, admit) -> None:
        """Add attendances, in the order their arrivals are to be taken at equal times."""
        checked = checked_attendances(
            (rows, site, ambulance, arrival_h, triage_h, assess_h, treat_h, admit),
            len(self.rota),
            self.now,
            min(c.size for c in (self.handover_h, self.decision_h, self.departure_h)),
        )
        for row in checked[0].tolist():
            if row in self._rows:
                raise ValueError(f"row {row} is already in the department")
        if checked[0].size:
            self._max_row = max(self._max_row, int(checked[0].max()))
        for row, s, amb, t, triage, assess, treat, adm in zip(*(c.tolist() for c in checked)):
            self._rows[row] = [s, triage, assess, treat, adm, False, False, False]
            if amb and self.limited:
                self._push(t, ARRIVE, row)
            else:
                if amb:
                    self.handover_h[row] = t
                self._push(t + triage, REQUEST, row)

    def advance(self, bound: float) -> int:
        """Take every event before `bound`, in order; stop at a decision to admit and
        return its row (`now` is then its time), or return -1 when none is left before."""
        calendar = self._calendar
        while calendar and calendar[0][0] < bound:
            t, _, kind, row = heapq.heappop(calendar)
            self.now = t
            self.events += 1
            if kind == DECIDE:
                if self._rows[row][4]:
                    self._rows[row][7] = True
                    self.decision_h[row] = t
                    return row
                self.decision_h[row] = t
                self._leave(row, t)
            elif kind == SEEN:
                s = self._rows[row][0]
                self.busy[s] -= 1
                self._call_next(s, t)
            elif kind == REQUEST:
                s = self._rows[row][0]
                if not self.waiting[s] and self.busy[s] < self._on_duty(s, t):
                    self._start(row, s, t)
                else:
                    self.waiting[s].append(row)
            elif kind == ARRIVE:
                s = self._rows[row][0]
                if not self.crews[s] and self.in_cubicles[s] < self.cubicles[s]:
                    self._hand_over(row, t, True)
                else:
                    self._rows[row][6] = True
                    self.crews[s].append(row)
                    if math.isfinite(self.cohort_after_h):
                        self._push(t + self.cohort_after_h, COHORT, row)
            elif kind == COHORT:
                state = self._rows.get(row)  # None: handed over and gone already
                if state is not None and state[6]:
                    self.crews[state[0]].remove(row)
                    self._hand_over(row, t, False)
            else:  # HOUR
                for s in range(len(self.rota)):
                    self._call_next(s, t)
                self._hour += 1
                self._push(float(self._hour), HOUR, _NO_ROW)
        return _NO_ROW

    def leave(self, row: int, t: float) -> None:
        """The patient leaves A&E at `t` (now): their cubicle, if any, goes to the next crew."""
        state = self._rows.get(row)
        if state is None or not state[7]:
            raise ValueError(f"row {row} is not a patient decided for admission in the department")
        if not t >= self.now:
            raise ValueError(f"leaving at {t} is before now ({self.now})")
        self._leave(row, t)

    def _leave(self, row: int, t: float) -> None:
        state = self._rows.pop(row)
        self.departure_h[row] = t
        if state[5]:
            s = state[0]
            self.in_cubicles[s] -= 1
            crews = self.crews[s]
            while crews and self.in_cubicles[s] < self.cubicles[s]:
                self._hand_over(crews.popleft(), t, True)

    def reinforce(self, site: int, extra_by_hour, extra_cubicles: int, t: float) -> None:
        """More clinicians each hour and more cubicles at `site` from `t` (now) on."""
        extra = checked_reinforcement(site, extra_by_hour, len(self.rota))
        self.rota[site] = [a + b for a, b in zip(self.rota[site], extra, strict=True)]
        self.cubicles[site] += int(extra_cubicles)
        crews = self.crews[site]
        while crews and self.in_cubicles[site] < self.cubicles[site]:
            self._hand_over(crews.popleft(), t, True)
        self._call_next(site, t)

    def on_duty(self, site: int) -> int:
        if not 0 <= site < len(self.rota):
            raise ValueError(f"site out of range 0..{len(self.rota) - 1}")
        return self._on_duty(site, self.now)

    # -- inside --------------------------------------------------------------------------
    def _push(self, t: float, kind: int, row: int) -> None:
        heapq.heappush(self._calendar, (t, self._seq, kind, row))
        self._seq += 1

    def _on_duty(self, s: int, t: float) -> int:
        return self.rota[s][int(t % 24.0)]

    def _hand_over(self, row: int, t: float, cubicle: bool) -> None:
        state = self._rows[row]
        state[6] = False
        if cubicle:
            state[5] = True
            self.in_cubicles[state[0]] += 1
        self.handover_h[row] = t
        self._push(t + state[1], REQUEST, row)

    def _start(self, row: int, s: int, t: float) -> None:
        state = self._rows[row]
        self.busy[s] += 1
        seen = t + state[2]
        self._push(seen, SEEN, row)
        self._push(seen + state[3], DECIDE, row)

    def _call_next(self, s: int, t: float) -> None:
        waiting = self.waiting[s]
        on_duty = self._on_duty(s, t)
        while waiting and self.busy[s] < on_duty:
            self._start(waiting.popleft(), s, t)
