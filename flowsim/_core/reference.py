"""The pure-Python twin of the bed-and-transfer core: the readable specification.

`flowsim/_core/board.pyx` implements the same `Board` in compiled code and must give
bit-identical results (see docs/core.md). When the two disagree, this file decides what
was meant. Keep it short and plain: its speed matters only on machines without a compiler.
"""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from flowsim._core.kinds import DEPARTED, FIT, GRANTED, LOST, MOVED, RouteState, Scheduled

# The codes are defined in flowsim/_core/kinds.py, for both boards. Module-level names here
# because reading an enum member through its class costs a lookup, on every event.
_REQUEST, _MOVE, _END = Scheduled.REQUEST, Scheduled.MOVE, Scheduled.END
_RENEGE, _CAPACITY, _FINISH = Scheduled.RENEGE, Scheduled.CAPACITY, Scheduled.FINISH
_WAIVE = Scheduled.WAIVE
_PENDING, _QUEUED, _GRANTED = RouteState.PENDING, RouteState.QUEUED, RouteState.GRANTED
_STAYING, _DONE = RouteState.STAYING, RouteState.DONE

MAX_LEGS = 32767  # legs are reported as int16
MAX_GROUP = 2**63 - 1  # groups are int64

# The keys of Board.stats(), in order: state now, time integrals, counters.
STATS_INT = ("capacity", "occupied", "queued", "delayed")
STATS_HOURS = ("capacity_hours", "occupied_hours", "queued_hours", "delayed_hours")
STATS_COUNTERS = ("granted", "moved", "departed", "lost", "requested", "outlied")


def as_capacities(capacities: Any) -> np.ndarray:
    """Validate the initial capacities: a 1-D sequence of integers >= 0, one per pool."""
    arr = np.asarray(capacities)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("capacities must be a non-empty 1-D sequence, one per pool")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"capacities must be integers, got dtype {arr.dtype}")
    if (arr < 0).any():
        raise ValueError("capacities must be >= 0")
    return arr.astype(np.int64)


def _kept(reserve: int, after: float, since: float, t: float) -> int:
    """The free slots an outlet keeps back at `t` from a request queued since `since`:
    its reserve, or none once the request has waited `after` hours (rule 2b)."""
    return 0 if since + after <= t else reserve


class _Route:
    """One patient's route through its legs, and where the patient is on it."""

    __slots__ = (
        "pools",
        "priorities",
        "stays",
        "readies",
        "lags",
        "max_wait",
        "leg",
        "state",
        "queued_at",
        "queue_seq",
        "group",
        "shield",
        "ends_group",
        "ended",
        "admitted",
    )

    def __init__(self, pools, priorities, stays, readies, lags, max_wait, group, shield, ends_group):
        self.pools = pools
        self.priorities = priorities
        self.stays = stays
        self.readies = readies
        self.lags = lags
        self.max_wait = max_wait
        self.leg = 0  # the leg requested, queued, granted or staying
        # _QUEUED while a request sits in a pool queue; a grant, a renege or an early end
        # changes it, which is how an entry left behind in the queue heap is recognised as
        # dead (lazy deletion).
        self.state = _PENDING
        # The time and sequence number of the request's live queue entry, while _QUEUED:
        # an entry of another sequence number is one left behind (a request granted out of
        # the queue's order, rule 2b, leaves its entry there).
        self.queued_at = 0.0
        self.queue_seq = -1
        # Rule 9: the holder's routes (group >= 0), the legs before which this route is
        # never ended by its group, and the point (a leg's move, or n_legs: its departure)
        # at which it ends the group's other routes (-1: never).
        self.group = group
        self.shield = shield
        self.ends_group = ends_group
        self.ended = False  # ended early (rule 8 or 9), not by its own course
        self.admitted = 0.0  # the admit() time: only routes admitted before a group end join it


class Board:
    """Capacity pools, their queues and the calendar of stays and transfers (docs/core.md).

    Times are float hours. The board draws no random numbers: every duration is passed in.
    """

    def __init__(self, capacities: Sequence[int] | np.ndarray) -> None:
        caps = as_capacities(capacities)
        n = len(caps)
        self._n_pools = n
        self._now = 0.0
        self._calendar: list[tuple] = []  # heap of (time, seq, kind, a, b)
        self._seq = 0  # calendar sequence number: breaks ties in time, in scheduling order
        self._request_seq = 0  # breaks ties in (priority, request time) within a queue
        self._queues: list[list[tuple]] = [[] for _ in range(n)]  # heaps of (prio, t, seq, h)
        self._routes: list[_Route] = []
        self._groups: dict[int, list[int]] = {}  # group -> its routes not known to be over
        # State of each pool now, and the time up to which its integrals are accumulated.
        self._capacity = [int(c) for c in caps]
        self._occupied = [0] * n
        self._queued = [0] * n
        self._delayed = [0] * n
        self._last = [0.0] * n
        self._capacity_hours = [0.0] * n
        self._occupied_hours = [0.0] * n
        self._queued_hours = [0.0] * n
        self._delayed_hours = [0.0] * n
        self._granted = [0] * n
        self._moved = [0] * n
        self._departed = [0] * n
        self._lost = [0] * n
        self._requested = [0] * n
        self._outlied = [0] * n
        # Outlying (docs/core.md, rule 2b): where a pool's requests may be granted when the
        # pool is full, in the order allowed, with the factor on the stay there, the free
        # slots kept back and the wait after which they are not; and, per pool, the pools
        # whose queued requests it may take. `_waivers[p]`: the distinct finite waits > 0
        # after which some outlet of p waives its reserve, ascending (when to re-check).
        self._outlets: list[list[tuple[int, float, int, float]]] = [[] for _ in range(n)]
        self._inlets: list[list[tuple[int, float, int, float]]] = [[] for _ in range(n)]
        self._waivers: list[list[float]] = [[] for _ in range(n)]
        self._events: tuple[list, list, list, list, list] = ([], [], [], [], [])

    # ----------------------------------------------------------------- public API

    @property
    def now(self) -> float:
        """The time (hours) the board has advanced to."""
        return self._now

    @property
    def n_pools(self) -> int:
        return self._n_pools

    def schedule_capacity(self, t: float, pool: int, capacity: int) -> None:
        """Set `pool`'s capacity to `capacity` slots at time `t` (a calendar event)."""
        t = float(t)
        pool = self._check_pool(pool)
        capacity = operator.index(capacity)
        if not (self._now <= t < math.inf):
            raise ValueError(f"capacity change at t={t} is not finite and >= now={self._now}")
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self._schedule(t, _CAPACITY, pool, capacity)

    def allow_outlying(
        self,
        pool: int,
        into: int,
        stay_factor: float,
        reserve: int = 0,
        reserve_waived_after: float = math.inf,
    ) -> None:
        """Let requests of `pool` be granted a slot of `into` when `pool` is full (rule 2b).

        Outlets are tried in the order they are allowed; the stay in the outlying slot is
        the leg's stay times `stay_factor` (>= 1: an outlier stays longer). `into` keeps
        `reserve` free slots back from these outliers (beds held for its own patients),
        except from a request that has queued `reserve_waived_after` hours (inf: never).
        """
        p, q = self._check_pool(pool), self._check_pool(into)
        factor = float(stay_factor)
        reserve = operator.index(reserve)
        after = float(reserve_waived_after)
        if not after >= 0.0:  # also refuses NaN
            raise ValueError(f"reserve_waived_after must be >= 0, got {reserve_waived_after}")
        if p == q:
            raise ValueError(f"pool {p} cannot outlie into itself")
        if not (1.0 <= factor < math.inf):
            raise ValueError(f"stay_factor must be finite and >= 1, got {stay_factor}")
        if reserve < 0:
            raise ValueError(f"reserve must be >= 0, got {reserve}")
        if any(o[0] == q for o in self._outlets[p]):
            raise ValueError(f"pool {p} may already outlie into pool {q}")
        self._outlets[p].append((q, factor, reserve, after))
        self._inlets[q].append((p, factor, reserve, after))
        if 0.0 < after < math.inf and after not in self._waivers[p]:
            self._waivers[p].append(after)
            self._waivers[p].sort()

    def admit(
        self,
        t: float,
        pools: Sequence[int],
        priorities: Sequence[float],
        stays: Sequence[float],
        readies: Sequence[float],
        lags: Sequence[float],
        max_wait: float = math.inf,
        group: int = -1,
        shield: int = 0,
        ends_group: int = -1,
    ) -> int:
        """Start a route at time `t`; returns its handle (0, 1, 2, … in admission order).

        Leg 0's request joins its pool at `t + readies[0]`. Lower priority values go first.
        `max_wait` applies to leg 0 only: 0 makes it a loss system, inf waits for ever.
        Later legs always wait: a fit patient is never refused, only delayed.
        Rule 9: routes of one `group` (>= 0) have one holder; moving into leg `ends_group`
        (or, when it equals the number of legs, departing the last) ends the holder's other
        routes, except those still before moving into their leg `shield`.
        """
        t = float(t)
        group, shield, ends_group = (operator.index(x) for x in (group, shield, ends_group))
        route = _Route(
            [self._check_pool(p) for p in pools],
            [float(x) for x in priorities],
            [float(x) for x in stays],
            [float(x) for x in readies],
            [float(x) for x in lags],
            float(max_wait),
            group,
            shield,
            ends_group,
        )
        n_legs = len(route.pools)
        if not 1 <= n_legs <= MAX_LEGS:
            raise ValueError(f"a route needs 1 to {MAX_LEGS} legs, got {n_legs}")
        if not all(len(x) == n_legs for x in (route.priorities, route.stays, route.readies, route.lags)):
            raise ValueError("pools, priorities, stays, readies and lags must have equal lengths")
        if not (self._now <= t < math.inf):
            raise ValueError(f"admission at t={t} is not finite and >= now={self._now}")
        for name in ("stays", "readies", "lags"):
            # `not x >= 0` also refuses NaN
            if not all(x >= 0.0 for x in getattr(route, name)):
                raise ValueError(f"{name} must be >= 0")
        if not all(x == x for x in route.priorities):
            raise ValueError("priorities must not be NaN")
        if not route.max_wait >= 0.0:
            raise ValueError(f"max_wait must be >= 0, got {max_wait}")
        if not 0 <= route.shield <= n_legs:
            raise ValueError(f"shield must be in 0..{n_legs}, got {shield}")
        if not -1 <= route.ends_group <= n_legs:
            raise ValueError(f"ends_group must be in -1..{n_legs}, got {ends_group}")
        if not -1 <= route.group <= MAX_GROUP:
            raise ValueError(f"group must be in -1..{MAX_GROUP}, got {group}")
        route.admitted = t
        handle = len(self._routes)
        self._routes.append(route)
        if route.group >= 0:
            # Routes over are dropped as the group grows: only live ones can be ended.
            members = self._groups.setdefault(route.group, [])
            members[:] = [r for r in members if self._routes[r].state != _DONE]
            members.append(handle)
        self._schedule(t + route.readies[0], _REQUEST, handle, 0)
        return handle

    def end(self, t: float, route: int) -> None:
        """End the route with handle `route` early at time `t` (a calendar event; docs/core.md).

        A queued request is withdrawn (LOST); a held slot is left (DEPARTED) and a slot
        granted downstream but not yet moved into is released; a route already over is
        left alone. The route's other calendar entries become stale.
        """
        t = float(t)
        h = operator.index(route)
        if not 0 <= h < len(self._routes):
            raise ValueError(f"route {h} is not a handle in 0..{len(self._routes) - 1}")
        if not (self._now <= t < math.inf):
            raise ValueError(f"end at t={t} is not finite and >= now={self._now}")
        self._schedule(t, _FINISH, h, 0)

    def ended_early(self, routes: Sequence[int] | np.ndarray) -> np.ndarray:
        """Whether each route was ended early (rule 8 or 9) rather than by its own course."""
        n = len(self._routes)
        handles = np.asarray(routes, dtype=np.int64).reshape(-1).tolist()
        if any(not 0 <= h < n for h in handles):
            raise ValueError(f"routes must be handles in 0..{n - 1}")
        return np.array([self._routes[h].ended for h in handles], dtype=np.bool_)

    def advance(self, until: float) -> dict[str, np.ndarray]:
        """Run every calendar event with time <= `until`; return the events, in order."""
        until = float(until)
        if not (self._now <= until < math.inf):
            raise ValueError(f"advance(until={until}) needs a finite until >= now={self._now}")
        calendar = self._calendar
        while calendar and calendar[0][0] <= until:
            t, _, kind, a, b = heapq.heappop(calendar)
            self._now = t
            if kind == _REQUEST:
                self._request(t, a, b)
            elif kind == _MOVE:
                self._move(t, a, b)
            elif kind == _END:
                self._end_of_stay(t, a, b)
            elif kind == _RENEGE:
                self._renege(t, a)
            elif kind == _FINISH:
                self._finish(t, a)
            elif kind == _WAIVE:
                self._waive(t, a, b)
            else:
                self._set_capacity(t, a, b)
        self._now = until
        times, kinds, routes, pools, legs = self._events
        self._events = ([], [], [], [], [])
        return {
            "time": np.array(times, dtype=np.float64),
            "kind": np.array(kinds, dtype=np.int8),
            "route": np.array(routes, dtype=np.int64),
            "pool": np.array(pools, dtype=np.int32),
            "leg": np.array(legs, dtype=np.int16),
        }

    def next_time(self) -> float:
        """Time of the next calendar event that will do something; inf if none."""
        calendar = self._calendar
        # A renege whose request was granted meanwhile does nothing, nor does any entry of
        # a route that is over (ended early, or an end() after it departed or was lost):
        # drop them here so the caller is not woken for them.
        while calendar and self._stale(calendar[0][2], calendar[0][3], calendar[0][4]):
            heapq.heappop(calendar)
        return calendar[0][0] if calendar else math.inf

    def stats(self) -> dict[str, np.ndarray]:
        """Per-pool state now, time integrals since time 0 (up to `now`), and counters."""
        now = self._now
        out = {key: np.array(getattr(self, "_" + key), dtype=np.int64) for key in STATS_INT}
        # The integrals are brought to `now` without being stored, so stats() changes nothing.
        for key, hours, count in (
            ("capacity_hours", self._capacity_hours, self._capacity),
            ("occupied_hours", self._occupied_hours, self._occupied),
            ("queued_hours", self._queued_hours, self._queued),
            ("delayed_hours", self._delayed_hours, self._delayed),
        ):
            out[key] = np.array(
                [h + c * (now - last) for h, c, last in zip(hours, count, self._last)],
                dtype=np.float64,
            )
        for key in STATS_COUNTERS:
            out[key] = np.array(getattr(self, "_" + key), dtype=np.int64)
        return out

    def queue_length(self, pool: int) -> int:
        return self._queued[self._check_pool(pool)]

    def occupied(self, pool: int) -> int:
        return self._occupied[self._check_pool(pool)]

    def capacity(self, pool: int) -> int:
        return self._capacity[self._check_pool(pool)]

    # ------------------------------------------------------------------ the rules

    def _request(self, t: float, h: int, k: int) -> None:
        """Rule 2: grant at once if a slot is free and nobody queues; else queue or lose."""
        route = self._routes[h]
        if route.state == _DONE:
            return  # ended early: stale
        p = route.pools[k]
        self._integrate(p, t)
        self._requested[p] += 1
        if self._occupied[p] < self._capacity[p] and self._queued[p] == 0:
            self._grant(t, h, p, k)
            return
        for q, factor, reserve, after in self._outlets[p]:
            kept = _kept(reserve, after, t, t)
            if self._occupied[q] + kept < self._capacity[q] and self._queued[q] == 0:
                self._integrate(q, t)
                self._grant_outlier(t, h, q, k, factor)
                return
        if k == 0 and route.max_wait == 0.0:
            self._lost[p] += 1
            route.state = _DONE
            self._emit(t, LOST, h, p, 0)
        else:
            self._queued[p] += 1
            route.state = _QUEUED
            route.queued_at, route.queue_seq = t, self._request_seq
            heapq.heappush(self._queues[p], (route.priorities[k], t, self._request_seq, h))
            self._request_seq += 1
            if k == 0 and route.max_wait < math.inf:
                self._schedule(t + route.max_wait, _RENEGE, h, 0)
            for after in self._waivers[p]:
                self._schedule(t + after, _WAIVE, h, route.queue_seq)

    def _grant(self, t: float, h: int, p: int, k: int) -> None:
        """Rule 3: the slot counts as occupied from now; the move follows after the lag."""
        self._occupied[p] += 1
        self._granted[p] += 1
        self._routes[h].state = _GRANTED
        self._emit(t, GRANTED, h, p, k)
        self._schedule(t + self._routes[h].lags[k], _MOVE, h, k)

    def _grant_outlier(self, t: float, h: int, q: int, k: int, factor: float) -> None:
        """Rule 2b: leg k is granted a slot of `q`, another pool: it stays there longer.

        From now on the leg's pool is `q` (its events, its fit slot) and its stay is
        multiplied by the outlet's factor.
        """
        route = self._routes[h]
        route.pools[k] = q
        route.stays[k] = route.stays[k] * factor
        self._outlied[q] += 1
        self._grant(t, h, q, k)

    def _move(self, t: float, h: int, k: int) -> None:
        """Rule 4: the patient moves in; the previous leg's slot frees (delay over)."""
        route = self._routes[h]
        if route.state == _DONE:
            return  # ended early during the lag: stale
        p = route.pools[k]
        self._moved[p] += 1
        route.state = _STAYING
        self._emit(t, MOVED, h, p, k)
        if k > 0:
            q = route.pools[k - 1]
            self._integrate(q, t)
            self._occupied[q] -= 1
            self._delayed[q] -= 1
            self._fill(q, t)
        self._schedule(t + route.stays[k], _END, h, k)
        if route.ends_group == k:
            self._end_group(t, h)

    def _end_of_stay(self, t: float, h: int, k: int) -> None:
        """Rule 5: the last leg departs and frees its slot; an earlier one becomes FIT."""
        route = self._routes[h]
        if route.state == _DONE:
            return  # ended early during the stay: stale
        p = route.pools[k]
        self._integrate(p, t)
        if k == len(route.pools) - 1:
            self._occupied[p] -= 1
            self._departed[p] += 1
            route.state = _DONE
            self._emit(t, DEPARTED, h, p, k)
            self._fill(p, t)
            if route.ends_group == k + 1:
                self._end_group(t, h)
        else:
            # Medically fit but still in the bed until the next leg's slot is moved into.
            self._delayed[p] += 1
            self._emit(t, FIT, h, p, k)
            route.leg = k + 1
            route.state = _PENDING
            self._schedule(t + route.readies[k + 1], _REQUEST, h, k + 1)

    def _renege(self, t: float, h: int) -> None:
        """Rule 2: a leg-0 request still queued after max_wait hours is LOST."""
        if not self._still_waiting_leg0(h):
            return
        p = self._routes[h].pools[0]
        self._integrate(p, t)
        self._queued[p] -= 1
        self._routes[h].state = _DONE  # its queue entry stays in the heap, now dead
        self._lost[p] += 1
        self._emit(t, LOST, h, p, 0)
        # No cascade: a queue was waiting, so the pool was full, and a renege frees no slot.

    def _waive(self, t: float, h: int, seq: int) -> None:
        """Rule 2b: a request still queued when an outlet's reserve is waived for it is
        granted in the first of its pool's outlets with a slot it may now take."""
        route = self._routes[h]
        if route.state != _QUEUED or route.queue_seq != seq:
            return  # granted, reneged or ended meanwhile: stale
        k = route.leg
        p = route.pools[k]
        for q, factor, reserve, after in self._outlets[p]:
            kept = _kept(reserve, after, route.queued_at, t)
            if self._occupied[q] + kept < self._capacity[q] and self._queued[q] == 0:
                self._integrate(p, t)
                self._queued[p] -= 1  # its queue entry stays in the heap, now dead
                self._integrate(q, t)
                self._grant_outlier(t, h, q, k, factor)
                return

    def _finish(self, t: float, h: int) -> None:
        """end(): the route ends early; what it holds or waits for is given up now."""
        state = self._stop(t, h)
        if state is not None:
            self._free(t, h, state)

    def _stop(self, t: float, h: int) -> int | None:
        """The first half of an early end: the route is over from now, so nothing can be
        granted to it, and a queued request is withdrawn (LOST; no slot frees in that
        pool). Returns the state it was in, or None if it was over already."""
        route = self._routes[h]
        state, k = route.state, route.leg
        if state == _DONE:
            return None  # departed or lost already (or ended twice): nothing happens
        route.state = _DONE  # its other calendar entries, and a queue entry, are now dead
        route.ended = True
        if state == _QUEUED:
            p = route.pools[k]
            self._integrate(p, t)
            self._queued[p] -= 1
            self._lost[p] += 1
            self._emit(t, LOST, h, p, k)
        return state

    def _free(self, t: float, h: int, state: int) -> None:
        """The second half: the slots the route held, in the state it was in, free (each
        granted down its queue)."""
        route = self._routes[h]
        k = route.leg
        if state == _QUEUED:
            if k > 0:  # fit in the slot of leg k - 1 while queued for leg k
                self._leave_fit_slot(t, route.pools[k - 1])
        elif state == _STAYING or (k == 0 and state == _GRANTED):
            # The slot of leg k (moved in, or granted and still in its lag) frees.
            p = route.pools[k]
            self._integrate(p, t)
            self._occupied[p] -= 1
            self._departed[p] += 1
            self._emit(t, DEPARTED, h, p, k)
            self._fill(p, t)
        elif k > 0:
            # Fit in the slot of leg k - 1, with leg k's request pending (_PENDING) or its
            # slot granted and the move not yet made (_GRANTED). The fit slot frees first;
            # then a granted slot downstream is released, silently.
            q = route.pools[k - 1]
            self._departed[q] += 1
            self._emit(t, DEPARTED, h, q, k - 1)
            self._leave_fit_slot(t, q)
            if state == _GRANTED:
                p = route.pools[k]
                self._integrate(p, t)
                self._occupied[p] -= 1
                self._fill(p, t)
        # else: leg 0 not yet requested (_PENDING): it holds nothing; no event.

    def _end_group(self, t: float, h: int) -> None:
        """Rule 9: route h's holder died or moved: their other routes, but those still
        shielded, end now, as in rule 8: first all are over and their queued requests
        withdrawn, then their slots free, each in admission order."""
        group = self._routes[h].group
        if group < 0:
            return
        members = self._groups[group]
        # All of them are over before any slot frees, so none is granted a slot another
        # has just given up.
        stopped = []
        for r in members:
            other = self._routes[r]
            # A route admitted at this moment or later is not yet the holder's: how far the
            # board had been advanced when it was admitted must not matter.
            if r != h and other.admitted < t and not self._shielded(other):
                state = self._stop(t, r)
                if state is not None:
                    stopped.append((r, state))
        for r, state in stopped:
            self._free(t, r, state)
        members[:] = [r for r in members if self._routes[r].state != _DONE]

    @staticmethod
    def _shielded(route: _Route) -> bool:
        """Still before moving into leg `shield`: waiting for or holding an earlier leg's slot."""
        return route.leg < route.shield or (0 < route.leg == route.shield and route.state != _STAYING)

    def _leave_fit_slot(self, t: float, q: int) -> None:
        """A fit (delayed) patient leaves its slot in `q` without moving on: it frees."""
        self._integrate(q, t)
        self._occupied[q] -= 1
        self._delayed[q] -= 1
        self._fill(q, t)

    def _set_capacity(self, t: float, p: int, capacity: int) -> None:
        """Rules 6 and 7: a fall evicts nobody; a rise grants to the queue."""
        self._integrate(p, t)
        self._capacity[p] = capacity
        self._fill(p, t)

    def _fill(self, p: int, t: float) -> None:
        """Rule 6: grant to the head of `p`'s queue while a slot is free."""
        queue = self._queues[p]
        while self._occupied[p] < self._capacity[p] and self._queued[p] > 0:
            _, _, seq, h = heapq.heappop(queue)
            route = self._routes[h]
            if route.state != _QUEUED or route.queue_seq != seq:
                continue  # reneged, ended or granted earlier: lazy deletion
            self._queued[p] -= 1
            self._grant(t, h, p, route.leg)
        # Rule 2b: a slot still free, with nobody of this pool waiting, goes to the
        # earliest, by (priority, request time, seq), of: the heads of the queues that may
        # outlie here with more free slots than their reserve; and, where the reserve
        # leaves none, each queue's earliest request that has waited long enough for the
        # reserve to be waived.
        while self._occupied[p] < self._capacity[p]:
            best, best_factor, waived = -1, 1.0, False
            best_entry: tuple | None = None
            for r, factor, reserve, after in self._inlets[p]:
                if self._queued[r] == 0:
                    continue
                entry: tuple | None = None
                if self._occupied[p] + reserve < self._capacity[p]:
                    entry, by_waiver = self._live_head(r), False
                elif after < math.inf:
                    entry, by_waiver = self._earliest_waived(r, after, t), True
                if entry is not None and (best_entry is None or entry[:3] < best_entry[:3]):
                    best, best_entry, best_factor, waived = r, entry, factor, by_waiver
            if best_entry is None:
                break
            if not waived:
                heapq.heappop(self._queues[best])  # the head; a waived entry is left, dead
            h = best_entry[3]
            self._integrate(best, t)
            self._queued[best] -= 1
            self._grant_outlier(t, h, p, self._routes[h].leg, best_factor)

    def _live_head(self, p: int) -> tuple:
        """The head of `p`'s queue after dropping entries left behind (lazy deletion)."""
        queue = self._queues[p]
        while not self._live(queue[0]):
            heapq.heappop(queue)
        return queue[0]

    def _earliest_waived(self, p: int, after: float, t: float) -> tuple | None:
        """The earliest live request of `p`'s queue that joined it `after` hours ago or more."""
        best = None
        for entry in self._queues[p]:
            if entry[1] + after <= t and self._live(entry) and (best is None or entry[:3] < best[:3]):
                best = entry
        return best

    def _live(self, entry: tuple) -> bool:
        """A queue entry (priority, time, seq, route) still waiting: not left behind."""
        route = self._routes[entry[3]]
        return route.state == _QUEUED and route.queue_seq == entry[2]

    # ---------------------------------------------------------------- bookkeeping

    def _still_waiting_leg0(self, h: int) -> bool:
        route = self._routes[h]
        return route.state == _QUEUED and route.leg == 0

    def _stale(self, kind: int, a: int, b: int) -> bool:
        """A calendar entry that will do nothing when it runs (next_time() skips it)."""
        if kind == _RENEGE:
            return not self._still_waiting_leg0(a)
        if kind == _WAIVE:
            route = self._routes[a]
            return route.state != _QUEUED or route.queue_seq != b
        return kind != _CAPACITY and self._routes[a].state == _DONE

    def _integrate(self, p: int, t: float) -> None:
        """Bring pool `p`'s time integrals up to `t`; call before any of its counts change."""
        dt = t - self._last[p]
        if dt != 0.0:
            self._capacity_hours[p] += self._capacity[p] * dt
            self._occupied_hours[p] += self._occupied[p] * dt
            self._queued_hours[p] += self._queued[p] * dt
            self._delayed_hours[p] += self._delayed[p] * dt
            self._last[p] = t

    def _schedule(self, t: float, kind: int, a: int, b: int) -> None:
        heapq.heappush(self._calendar, (t, self._seq, kind, a, b))
        self._seq += 1

    def _emit(self, t: float, kind: int, h: int, p: int, k: int) -> None:
        times, kinds, routes, pools, legs = self._events
        times.append(t)
        kinds.append(kind)
        routes.append(h)
        pools.append(p)
        legs.append(k)

    def _check_pool(self, pool: int) -> int:
        pool = operator.index(pool)
        if not 0 <= pool < self._n_pools:
            raise ValueError(f"pool {pool} is not in 0..{self._n_pools - 1}")
        return pool
