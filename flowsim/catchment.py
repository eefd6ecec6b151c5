"""Which acute site serves whom: each GP practice belongs to one site's catchment.

Practices are assigned to sites in order, in proportion to the sites' catchment shares,
so a person's site follows from their practice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Catchment:
    def __init__(self, catchment_shares: Sequence[float], practices: int, practice_of_person: np.ndarray):
        shares = np.cumsum(catchment_shares)
        self.site_of_practice = (
            np.searchsorted(shares / shares[-1], (np.arange(practices) + 0.5) / practices)
            .clip(0, len(catchment_shares) - 1)
            .astype(np.int32)
        )
        self._practice = practice_of_person  # the population's own array: kept up to date by it

    def site_of(self, people: np.ndarray) -> np.ndarray:
        return self.site_of_practice[self._practice[people]]
