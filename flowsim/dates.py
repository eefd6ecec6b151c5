"""The run's days as dates: which weekday and month each day and hour falls in.

Time in the model is hours since 00:00 of `run.start_date`; day d covers hours
[24 d, 24 (d + 1)).
"""

from __future__ import annotations

import datetime as dt

import numpy as np


class Dates:
    def __init__(self, start_date: dt.date, total_days: int):
        self.start_date = start_date
        # One day beyond the end, for events stamped at the final midnight.
        days = total_days + 2
        self._month_of_day = np.array([self.date(d).month - 1 for d in range(days)], dtype=np.int8)

    def date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=int(day))

    def weekday(self, day: int) -> int:
        """0 for Monday to 6 for Sunday."""
        return self.date(day).weekday()

    def month_index(self, t_hours: np.ndarray) -> np.ndarray:
        """Month of each time, 0 for January to 11 for December."""
        return self._month_of_day[(np.asarray(t_hours) // 24).astype(np.int64)]
