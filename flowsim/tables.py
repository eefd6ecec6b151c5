"""Growable numpy columns: logs that are appended to in the run and read as one table."""

from __future__ import annotations

import numpy as np


class Columns:
    """Named numpy columns of equal length that grow by doubling.

    `columns.name` is the whole backing array (write into it by row); `columns.view()`
    gives the filled rows only.
    """

    def __init__(self, capacity: int = 1024, fill: dict[str, object] | None = None, **dtypes):
        self._dtypes = {name: np.dtype(dt) for name, dt in dtypes.items()}
        self._fill = {name: self._default(dt) for name, dt in self._dtypes.items()}
        self._fill.update(fill or {})
        self._data = {
            name: np.full(capacity, self._fill[name], dtype=dt) for name, dt in self._dtypes.items()
        }
        self._cap = capacity
        self.n = 0
        self._publish()

    def _publish(self) -> None:
        """Each column as a plain attribute too: the run reads and writes them by row
        hundreds of thousands of times, and an attribute found at once costs far less
        than a miss that falls through to `__getattr__`."""
        reserved = set(dir(type(self))) | {"n"}
        for name, data in self._data.items():
            if name not in reserved and not name.startswith("_"):
                self.__dict__[name] = data

    @staticmethod
    def _default(dtype: np.dtype):
        if dtype.kind == "f":
            return np.nan
        if dtype.kind == "b":
            return False
        return -1

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def _reserve(self, n_new: int) -> None:
        need = self.n + n_new
        if need <= self._cap:
            return
        cap = self._cap
        while cap < need:
            cap *= 2
        for name, old in self._data.items():
            new = np.full(cap, self._fill[name], dtype=old.dtype)
            new[: self.n] = old[: self.n]
            self._data[name] = new
        self._cap = cap
        self._publish()

    def append(self, **values) -> int:
        """One row; columns not given keep their fill value."""
        row = self.n
        if row >= self._cap:
            self._reserve(1)
        data = self._data
        for name, value in values.items():
            data[name][row] = value
        self.n = row + 1
        return row

    def extend(self, **arrays) -> np.ndarray:
        """Rows from equal-length arrays; returns their row numbers."""
        k = len(next(iter(arrays.values())))
        self._reserve(k)
        rows = np.arange(self.n, self.n + k)
        for name, values in arrays.items():
            self._data[name][self.n : self.n + k] = values
        self.n += k
        return rows

    def view(self) -> dict[str, np.ndarray]:
        return {name: data[: self.n] for name, data in self._data.items()}
