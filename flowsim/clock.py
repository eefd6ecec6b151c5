"""One clock for SimPy and the bed-and-transfer core.

SimPy runs the front door (A&E journeys); the core runs beds and transfers on its own
event calendar. The core is advanced to SimPy's `now` whenever a request is made, and,
while someone in A&E waits for a bed, a timer wakes SimPy at the core's next event so the
boarder leaves A&E the moment their bed is ready. With nobody waiting, the core runs
ahead unobserved until the next request or the end of the day.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import simpy

from flowsim.vocabulary import CoreEvent

EVENT_FIELDS = ("time", "kind", "route", "pool", "leg")
_MOVED = int(CoreEvent.MOVED)  # a plain int: an IntEnum member costs a class lookup per use


class DayEnvironment(simpy.Environment):
    """SimPy's environment with its event loop inlined for a run to a time.

    The model runs SimPy a day at a time through hundreds of thousands of events a year;
    `run(until=t)` here does what `simpy.Environment.run` does (every event before `t`,
    in the same order, then `now = t`) without a method call and a stop event per event.
    Any other `until` goes to SimPy's own loop.
    """

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
        while queue and queue[0][0] < stop:
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
    def __init__(self, env: simpy.Environment, board):
        self.env = env
        self.board = board
        self._waiters: dict[int, simpy.Event] = {}
        self._timer_at = math.inf
        self._batches: list[dict[str, np.ndarray]] = []

    def admit(
        self, pools, priorities, stays, readies, lags, max_wait: float = math.inf, *, now: bool = False
    ) -> int:
        """Hand a route to the core; `now=True` also runs the core to now, for a caller
        that must know at once whether the first leg was granted."""
        handle = self.board.admit(self.env.now, pools, priorities, stays, readies, lags, max_wait)
        if now:
            self.pump()
        return handle

    def end(self, handle: int) -> None:
        """End a route now, wherever it is (its holder died or no longer needs it)."""
        self.board.end(self.env.now, handle)

    def has_free_slot(self, pool: int) -> bool:
        self.pump()
        board = self.board
        return board.occupied(pool) < board.capacity(pool) and board.queue_length(pool) == 0

    def at_times(self, times: np.ndarray, action) -> None:
        """Call `action(i)` at each `times[i]` (hours), in time order, from a SimPy process."""
        self.env.process(self._at_times(np.asarray(times, dtype=np.float64), action))

    def _at_times(self, times: np.ndarray, action):
        env = self.env
        for i in np.argsort(times, kind="stable").tolist():
            if times[i] > env.now:
                yield env.timeout(times[i] - env.now)
            action(i)

    def wait_for_bed(self, handle: int) -> simpy.Event:
        """An event that fires when the route's first leg starts (the patient leaves A&E)."""
        event = self.env.event()
        self._waiters[handle] = event
        self._arm()
        return event

    def _on_timer(self, timer: simpy.Event) -> None:
        if timer.value == self._timer_at:  # a stale, later timer leaves the current one armed
            self._timer_at = math.inf
        self.pump()

    def pump(self) -> dict[str, np.ndarray]:
        """Advance the core to now; wake waiting A&E patients whose bed is ready."""
        events = self.board.advance(self.env.now)
        if events["time"].size:
            self._batches.append(events)
            waiters = self._waiters
            if waiters:
                # Called on every wake-up with a handful of events: plain lists beat numpy here.
                for kind, leg, route in zip(
                    events["kind"].tolist(), events["leg"].tolist(), events["route"].tolist()
                ):
                    if kind == _MOVED and leg == 0:
                        waiter = waiters.pop(route, None)
                        if waiter is not None:
                            waiter.succeed()
        self._arm()
        return events

    def _arm(self) -> None:
        if not self._waiters:
            return
        t = self.board.next_time()
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
