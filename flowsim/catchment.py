"""Which acute site serves whom: each GP practice belongs to one site's catchment.

Practices are assigned to sites in order, in proportion to the sites' catchment shares,
so a person's site follows from their practice. A site consolidation moves the closing
site's practices to the receiving sites, and their ambulance journeys get longer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowsim.pools import split_beds
from flowsim.population import Population


class Catchment:
    def __init__(
        self, catchment_shares: Sequence[float], practices: int, practice_of_person: np.ndarray | Population
    ):
        shares = np.cumsum(catchment_shares)
        self.site_of_practice = (
            np.searchsorted(shares / shares[-1], (np.arange(practices) + 0.5) / practices)
            .clip(0, len(catchment_shares) - 1)
            .astype(np.int32)
        )
        # Extra hours an ambulance takes to reach the practice's site, over the journey of
        # the run's start (0 until a consolidation moves the practice).
        self.extra_travel_h = np.zeros(practices)
        # The population itself (its arrays are replaced as it grows), or a fixed array.
        self._people = practice_of_person

    @property
    def _practice(self) -> np.ndarray:
        people = self._people
        return people if isinstance(people, np.ndarray) else people.practice

    def site_of(self, people: np.ndarray) -> np.ndarray:
        return self.site_of_practice[self._practice[people]]

    def travel_hours(self, people: np.ndarray) -> np.ndarray:
        """Extra ambulance journey time of each person, in hours."""
        return self.extra_travel_h[self._practice[people]]

    def reassign(self, closing: int, receivers: Sequence[tuple[int, float]], extra_travel_h: float) -> None:
        """Give the closing site's practices to the receiving sites in proportion to their
        shares (in practice order), each journey `extra_travel_h` longer."""
        moved = np.flatnonzero(self.site_of_practice == closing)
        counts = split_beds(moved.size, [share for _, share in receivers])
        sites = np.repeat([site for site, _ in receivers], counts)
        self.site_of_practice[moved] = sites
        self.extra_travel_h[moved] += extra_travel_h
