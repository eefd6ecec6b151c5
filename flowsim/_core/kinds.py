"""The codes of the bed-and-transfer core, defined once for both implementations.

The pure-Python twin (reference.py) uses these values as they are; the compiled board
(board.pyx) copies them into C variables when it is imported. Only `CoreEvent` is seen
outside the core: it is the `kind` column of `Board.advance()` (int8). The other two are
the core's own bookkeeping, never reported. Each is its own code space: equal integers in
two of them mean nothing.
"""

from __future__ import annotations

from enum import IntEnum


class CoreEvent(IntEnum):
    """What happened to a route, as reported by `Board.advance()` (docs/core.md)."""

    GRANTED = 1  # a slot is granted: it counts as occupied from now
    MOVED = 2  # the patient moves into the granted slot; the previous leg's slot frees
    FIT = 3  # a stay ends but another leg follows: the patient is delayed, holding the slot
    DEPARTED = 4  # the last stay ends, or end() leaves a held slot: the slot frees
    LOST = 5  # a leg-0 request is refused or reneges (max_wait), or end() withdraws a request


GRANTED = CoreEvent.GRANTED
MOVED = CoreEvent.MOVED
FIT = CoreEvent.FIT
DEPARTED = CoreEvent.DEPARTED
LOST = CoreEvent.LOST


class Scheduled(IntEnum):
    """What a calendar entry does when it comes up, with the meaning of its two payloads.

    Ties in time are broken by the entry's sequence number, never by this code.
    """

    REQUEST = 0  # (route, leg): the request joins its pool
    MOVE = 1  # (route, leg): the transfer lag after a grant is over
    END = 2  # (route, leg): the stay in the leg's pool is over
    RENEGE = 3  # (route, 0): the leg-0 request has waited max_wait hours
    CAPACITY = 4  # (pool, capacity): a scheduled capacity change
    FINISH = 5  # (route, 0): end(t, route), the route ends early
    WAIVE = 6  # (route, queue seq): a queued request has waited long enough for a reserve waiver


class RouteState(IntEnum):
    """Where a route stands, for its current leg `leg`.

    A route whose leg >= 1 and whose state is PENDING, QUEUED or GRANTED also holds its fit
    slot in the pool of leg - 1 (it is delayed there). Calendar entries of a DONE route are
    stale: they are skipped when they come up (lazy deletion).
    """

    PENDING = 0  # the request for `leg` is scheduled but not yet made
    QUEUED = 1  # the request for `leg` waits in its pool's queue
    GRANTED = 2  # `leg`'s slot is granted; the move after the lag is scheduled
    STAYING = 3  # moved into `leg`'s slot; the end of stay is scheduled
    DONE = 4  # departed, lost (refused or reneged) or ended early: nothing more happens
