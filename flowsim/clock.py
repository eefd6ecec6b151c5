"""One clock for SimPy and the bed-and-transfer core.

SimPy runs the system's processes (the day, timed admissions, the wait for a bed); the
A&E department and the core run patients on their own event calendars. The department
is interleaved with SimPy's events (`DayEnvironment.run`). The core is advanced to
SimPy's `now` whenever a request is made, and, while someone in A&E waits for a bed, a
timer wakes SimPy when their bed is ready (the grant plus the transfer lag), so the
boarder leaves A&E at that moment; until they are granted, the timer looks at the core
once per lag, not at each of its events. With nobody waiting, the core runs ahead
unobserved until the next request or the end of the day.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import simpy

from flowsim.arrays import stable_argsort
from flowsim.vocabulary import CoreEvent

EVENT_FIELDS = ("time", "kind", "route", "pool", "leg")
# Plain ints: an IntEnum member costs a class lookup per use.
_MOVED = int(CoreEvent.MOVED)
_GRANTED = int(CoreEvent.GRANTED)


class DayEnvironment(simpy.Environment):
    """SimPy's environment with its event loop inlined for a run to a time, and an A&E
    department's calendar interleaved with SimPy's.

    The model runs SimPy a day at a time through hundreds of thousands of events a year;
    `run(until=t)` here does what `simpy.Environment.run` does (every event before `t`,
    in the same order, then `now = t`) without a method call and a stop event per event.
    Before each SimPy event the department takes its own events up to that time (those at
    the same time come after SimPy's), so its patients cost SimPy nothing; when one of
    them is decided for admission the department stops and `on_decision(row)` runs at that
    time. Any other `until` goes to SimPy's own loop, which leaves the department alone.
    """

    department = None
    on_decision = None

    def attach(self, department, on_decision) -> None:
        """Interleave `department` (see flowsim/_core/department_reference.py)."""
        self.department, self.on_decision = department, on_decision

    def run(self, until=None):
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = until if isinstance(until, int) else float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        # SimPy's stop event is urgent at now + (at - now): it comes after every event at
        # an earlier time and before every other event at its own (none is urgent later).
        stop = self._now + (at - self._now)
        queue = self._queue
        pop = heapq.heappop
        department, on_decision = self.department, self.on_decision
        while True:
            bound = queue[0][0] if queue and queue[0][0] < stop else stop
            if department is not None:
                row = department.advance(bound)
                if row >= 0:
                    self._now = department.now
                    on_decision(row)
                    continue
            if bound == stop:
                break
            self._now, _, _, event = pop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                # As simpy.Environment.step: a failed event nobody handled crashes the run.
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        self._now = stop
        return None


class CoreClock:
    def __init__(self, env: DayEnvironment, board):
        self.env = env
        self.board = board
        self._waiters: dict[int, simpy.Event] = {}
        # Of each waiter: the transfer lag of its first leg, and, once granted, the time
        # its move is due (grant + lag, as the core schedules it).
        self._lag0: dict[int, float] = {}
        self._move_at: dict[int, float] = {}
        self._ungranted: dict[float, int] = {}  # waiters not yet granted, by lag
        self._last_admit = (-1, 0.0, -1)  # (handle, lag of leg 0, pumps before it)
        self._pumps = 0
        self._timer_at = math.inf
        self._batches: list[dict[str, np.ndarray]] = []

    def admit(
        self,
        pools,
        priorities,
        stays,
        readies,
        lags,
        max_wait: float = math.inf,
        *,
        now: bool = False,
        holder: int = -1,
        shield: int = 0,
        ends_others: int = -1,
    ) -> int:
        """Hand a route to the core; `now=True` also runs the core to now, for a caller
        that must know at once whether the first leg was granted. `holder` (a person id),
        `shield` and `ends_others` are the core's group, shield and ends_group (rule 9):
        a death or a move into a care home ends the person's other places at that moment."""
        handle = self.board.admit(
            self.env.now,
            pools,
            priorities,
            stays,
            readies,
            lags,
            max_wait,
            holder,  # group, shield and ends_group, by position: keywords cost a parse per call
            shield,
            ends_others,
        )
        self._last_admit = (handle, float(lags[0]), self._pumps)
        if now:
            self.pump()
        return handle

    def end(self, handle: int) -> None:
        """End a route now, wherever it is (its holder died or no longer needs it)."""
        self.board.end(self.env.now, handle)

    def ended_early(self, handles: np.ndarray) -> np.ndarray:
        """Whether each route was ended by the model (rule 8 or 9), not by its own course."""
        return self.board.ended_early(handles)

    def has_free_slot(self, pool: int) -> bool:
        self.pump()
        board = self.board
        return board.occupied(pool) < board.capacity(pool) and board.queue_length(pool) == 0

    def at_times(self, times: np.ndarray, action) -> None:
        """Call `action(i)` at each `times[i]` (hours), in time order, from a SimPy process."""
        self.env.process(self._at_times(np.asarray(times, dtype=np.float64), action))

    def _at_times(self, times: np.ndarray, action):
        env = self.env
        for i in stable_argsort(times).tolist():
            if times[i] > env.now:
                yield env.timeout(times[i] - env.now)
            action(i)

    def wait_for_bed(self, handle: int) -> simpy.Event:
        """An event that fires when the route's first leg starts (the patient leaves A&E)."""
        event = self.env.event()
        self._waiters[handle] = event
        last, lag0, pumps = self._last_admit
        # The lag is known for the route just admitted, if the core has not run since (so
        # its grant is still to come); otherwise 0, which wakes SimPy at every core event.
        lag0 = lag0 if last == handle and pumps == self._pumps else 0.0
        self._lag0[handle] = lag0
        self._ungranted[lag0] = self._ungranted.get(lag0, 0) + 1
        self._arm()
        return event

    def _on_timer(self, timer: simpy.Event) -> None:
        if timer.value != self._timer_at:
            return  # a later timer, superseded by an earlier one that has run the core since
        self._timer_at = math.inf
        self.pump()

    def pump(self) -> dict[str, np.ndarray]:
        """Advance the core to now; wake waiting A&E patients whose bed is ready."""
        events = self.board.advance(self.env.now)
        self._pumps += 1
        if events["time"].size:
            self._batches.append(events)
            waiters = self._waiters
            if waiters:
                # A handful of events on most calls: plain lists beat numpy here.
                for kind, leg, route, t in zip(
                    events["kind"].tolist(),
                    events["leg"].tolist(),
                    events["route"].tolist(),
                    events["time"].tolist(),
                ):
                    if leg != 0 or route not in waiters:
                        continue
                    if kind == _MOVED:
                        lag0 = self._lag0.pop(route)
                        if self._move_at.pop(route, None) is None:  # granted before it waited
                            self._granted(lag0)
                        waiters.pop(route).succeed()
                    elif kind == _GRANTED:
                        lag0 = self._lag0[route]
                        self._move_at[route] = t + lag0
                        self._granted(lag0)
        self._arm()
        return events

    def _granted(self, lag0: float) -> None:
        left = self._ungranted[lag0] - 1
        if left:
            self._ungranted[lag0] = left
        else:
            del self._ungranted[lag0]

    def _arm(self) -> None:
        """Set a timer for the next time SimPy must see the core: the move of a waiter
        already granted a bed, or the latest time by which a grant to another must be
        seen so that its move (grant + lag) is not missed.

        Every grant not yet seen comes at or after `board.now`, so its move comes at or
        after `board.now` plus the shortest lag among the waiters not yet granted: until
        then SimPy need not stop at each of the core's events, whose outcome does not
        depend on when the core is advanced. A lag of 0 (or unknown) stops SimPy at
        every core event, as does a next event later than that bound.
        """
        if not self._waiters:
            return
        board = self.board
        t = math.inf
        if self._move_at:
            for route, at in list(self._move_at.items()):
                if at <= board.now:  # seen by now, so dropped: the route ended in its lag
                    del self._move_at[route]
                elif at < t:
                    t = at
        if self._ungranted:
            t = min(t, max(board.next_time(), board.now + min(self._ungranted)))
        if t < self._timer_at and math.isfinite(t):
            self._timer_at = t
            timer = self.env.timeout(max(0.0, t - self.env.now), value=t)
            timer.callbacks.append(self._on_timer)

    def take_events(self) -> dict[str, np.ndarray]:
        """Every core event since the last call, in order, as one set of columns."""
        batches = self._batches
        self._batches = []
        if not batches:
            return {name: np.empty(0) for name in EVENT_FIELDS}
        return {name: np.concatenate([b[name] for b in batches]) for name in EVENT_FIELDS}
