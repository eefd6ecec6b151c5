"""A footprint's own stream of calls to the core, recorded from a model run and replayed.

`record(config)` runs the model with a board that notes every call the model makes to it
(admissions, early ends, capacity changes, advances, and the questions it asks: the next
event's time, occupancy, queue lengths), in order. `replay(board_cls, calls)` makes the
same calls on a fresh board of either implementation and returns the events, so the
compiled core and its twin can be timed on exactly the work a model run gives them.
`by_day(calls)` keeps only the calls that change the board, advancing it at midnights
only: the same stream of admissions as a driver that hands the core a day at a time
would give it. Its events are the model's but for the order of simultaneous events: a
call for a time at which an event already falls runs after that event if the board was
advanced to it first, before it otherwise (docs/core.md).
"""

from __future__ import annotations

import gc
import time
from typing import Any

import numpy as np

# Calls whose arguments are recorded as given (all of them plain numbers or short lists).
_CALLS = (
    "schedule_capacity",
    "allow_outlying",
    "admit",
    "end",
    "advance",
    "next_time",
    "occupied",
    "capacity",
    "queue_length",
    "stats",
)


class RecordingBoard:
    """A board that forwards every call to a real one and notes it."""

    def __init__(self, board: Any, calls: list[tuple]):
        self._board = board
        self.calls = calls

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._board, name)
        if name not in _CALLS:
            return target
        calls = self.calls

        def recorded(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, tuple(_plain(a) for a in args), {k: _plain(v) for k, v in kwargs.items()}))
            return target(*args, **kwargs)

        return recorded


def _plain(value: Any) -> Any:
    """Arguments as Python numbers and lists, so the recording holds no reference to
    arrays the model later changes."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record(config: Any, replication: int = 0) -> tuple[list[int], list[tuple]]:
    """Run the model on `config` and return (the board's capacities, every call to it)."""
    import flowsim.model as model_module

    calls: list[tuple] = []
    capacities: list[int] = []
    real_board = model_module.Board

    def board_factory(caps: Any) -> RecordingBoard:
        capacities.extend(int(c) for c in caps)
        return RecordingBoard(real_board(caps), calls)

    model_module.Board = board_factory  # type: ignore[assignment]
    try:
        model = model_module.WholeSystemModel(config, replication)
        model.run()
    finally:
        model_module.Board = real_board
    return capacities, calls


def replay(board_cls: Any, capacities: list[int], calls: list[tuple]) -> tuple[float, dict[str, np.ndarray]]:
    """Make the recorded calls on a fresh board; returns (seconds, all events in order).

    The cyclic garbage collector stays on, as in a model run.
    """
    gc.collect()
    board = board_cls(np.asarray(capacities, dtype=np.int64))
    chunks = []
    start = time.perf_counter()
    for name, args, kwargs in calls:
        result = getattr(board, name)(*args, **kwargs)
        if name == "advance":
            chunks.append(result)
    seconds = time.perf_counter() - start
    events = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return seconds, events


_CHANGES = ("schedule_capacity", "allow_outlying", "admit", "end")


def by_day(calls: list[tuple]) -> list[tuple]:
    """The calls that change the board, with advances at midnights only."""
    return [
        (name, args, kwargs)
        for name, args, kwargs in calls
        if name in _CHANGES or (name == "advance" and args[0] % 24.0 == 0.0)
    ]
