"""Adult social care: long-term home-care packages and care-home places.

Both are pools whose places turn over slowly (a place ends with a death, a move or the end
of need). People enter from hospital (P1 after reablement, P2, P3) and from the community;
both queue for the same places, first come first served, so a full care-home sector
holds people in hospital beds. The residents at the start hold their places already.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.episodes import CARE_HOME_ENTRY, HOME_CARE_START
from flowsim.population import CARE_HOME, HOME, HOME_CARE, OLDER_BANDS
from flowsim.rng import lognormal_from_normal
from flowsim.services.pathways import stationary_residual

if TYPE_CHECKING:
    from flowsim.model import WholeSystemModel


class SocialCare:
    def __init__(self, model: WholeSystemModel):
        self.model = model
        self.cfg = model.config.social_care

    def prefill(self, rng: np.random.Generator) -> None:
        m = self.model
        pop = m.population
        for pool, residence, stay in (
            ("home_care", HOME_CARE, self.cfg.home_care_days),
            ("care_home", CARE_HOME, self.cfg.care_home_days),
        ):
            people = np.flatnonzero(pop.residence == residence)
            # Nobody starts in a place that does not exist: beyond capacity, people live at home.
            places = m.pools.capacities[m.pools.index(pool)]
            pop.residence[people[places:]] = HOME
            pop.refresh(people[places:])
            people = people[:places]
            n = people.size
            stay_h = stationary_residual(rng.standard_normal(n), rng.random(n), stay.mean, stay.cv) * 24.0
            m.start_routes(people, pool, stay_h)

    def community_entries(self, day: int, rng: np.random.Generator) -> None:
        """New packages and care-home entries of people not coming from hospital."""
        m = self.model
        older = m.population.older_people()
        for pool, rate, residence, stay, kind in (
            (
                "home_care",
                self.cfg.home_care_community_starts_per_1000_65_py,
                HOME,
                self.cfg.home_care_days,
                HOME_CARE_START,
            ),
            (
                "care_home",
                self.cfg.care_home_community_entries_per_1000_65_py,
                HOME,
                self.cfg.care_home_days,
                CARE_HOME_ENTRY,
            ),
        ):
            n = rng.poisson(rate * older / 1000.0 / 365.0)
            people = m.pick_people(rng, n, min_band=OLDER_BANDS + 1, residence=residence)
            stay_h = lognormal_from_normal(rng.standard_normal(people.size), stay.mean, stay.cv) * 24.0
            m.start_routes(
                people, pool, stay_h, kind=kind, at_h=day * 24.0 + 9.0 + 8.0 * rng.random(people.size)
            )
