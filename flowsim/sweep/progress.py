"""One progress display for a sweep: runs done, failed and running, and the time left.

On a terminal it is a rich bar; otherwise (a log file, a batch job) it is a plain line
at most every `every_seconds`, and one at the end.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["SweepProgress"]


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class SweepProgress:
    """Counts of a sweep's runs, shown as they change."""

    def __init__(
        self,
        total: int,
        *,
        slots: int,
        skipped: int = 0,
        enabled: bool = True,
        stream: TextIO | None = None,
        every_seconds: float = 10.0,
    ):
        self.total = total
        self.slots = max(1, slots)
        self.done = skipped
        self.skipped = skipped
        self.failed = 0
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.every = every_seconds
        self.start = time.monotonic()
        self._last = 0.0
        self._bar: Any = None
        self._task: Any = None

    @property
    def running(self) -> int:
        return min(self.slots, self.total - self.done - self.failed)

    def eta(self) -> str:
        finished_now = self.done + self.failed - self.skipped
        left = self.total - self.done - self.failed
        if finished_now <= 0:
            return "?"
        return _duration((time.monotonic() - self.start) / finished_now * left)

    def line(self) -> str:
        return (
            f"{self.done}/{self.total} runs done, {self.failed} failed, {self.running} running, "
            f"elapsed {_duration(time.monotonic() - self.start)}, ETA {self.eta()}"
        )

    def __enter__(self) -> SweepProgress:
        if self.enabled and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("[bold]sweep"),
                BarColumn(),
                TextColumn("{task.fields[line]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self._task = self._bar.add_task("sweep", total=self.total, completed=self.done, line=self.line())
            self._bar.start()
        elif self.enabled:
            self._say()
        return self

    def _say(self) -> None:
        print(f"sweep: {self.line()}", file=self.stream, flush=True)
        self._last = time.monotonic()

    def finished(self, failed: bool) -> None:
        if failed:
            self.failed += 1
        else:
            self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done + self.failed, line=self.line())
        elif time.monotonic() - self._last >= self.every:
            self._say()

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.update(self._task, line=self.line())
            self._bar.stop()
        elif self.enabled:
            self._say()
