"""Adult social care: long-term home-care packages and care-home places.

Both are pools whose places turn over slowly (a place ends with a death, a move or the end
of need). People enter from hospital (P1 after reablement, P2, P3) and from the community;
both queue for the same places, hospital discharges first (a delayed discharge holds an
acute bed), so people referred from home wait longest, and a care-home sector full beyond
that holds people in hospital beds. The residents at the start hold their places already.
Social care's rules live here: taking up a place changes where a person lives, and the end
of a place is a death or a return to living independently.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from flowsim.config.schema import SocialCareConfig
from flowsim.draw_slots import EpisodeDraw
from flowsim.ledger import Ledger
from flowsim.pools import Pools
from flowsim.population import Population
from flowsim.rng import KeyedUniforms, lognormal_from_normal
from flowsim.services.pathways import stationary_residual
from flowsim.vocabulary import AGE_BANDS, CoreEvent, Origin, Residence

COMMUNITY_PRIORITY = 1  # behind hospital discharges (priority 0)


class SocialCare:
    def __init__(
        self,
        cfg: SocialCareConfig,
        *,
        population: Population,
        pools: Pools,
        ledger: Ledger,
        keyed: KeyedUniforms,
        report_deaths: Callable[[np.ndarray], None],
    ):
        self.cfg = cfg
        self.population = population
        self.pools = pools
        self.ledger = ledger
        self.keyed = keyed
        self.report_deaths = report_deaths
        self.home_care_pool = pools.index("home_care")
        self.care_home_pool = pools.index("care_home")
        self.care_home_entries_h: list[float] = []
        self.min_band = AGE_BANDS.index(cfg.community_entry_min_age_band)

    def prefill(self, rng: np.random.Generator) -> None:
        """Today's residents and package holders hold their places, part-way through."""
        pop = self.population
        for pool, residence, stay in (
            (self.home_care_pool, Residence.HOME_CARE, self.cfg.home_care_days),
            (self.care_home_pool, Residence.CARE_HOME, self.cfg.care_home_days),
        ):
            people = np.flatnonzero(pop.residence == residence)
            # Nobody starts in a place that does not exist: beyond capacity, people live at home.
            places = self.pools.capacities[pool]
            pop.residence[people[places:]] = Residence.HOME
            pop.refresh(people[places:])
            people = people[:places]
            n = people.size
            stay_h = stationary_residual(rng.standard_normal(n), rng.random(n), stay.mean, stay.cv) * 24.0
            self.ledger.start_places(people, pool, stay_h, ends_others=pool == self.care_home_pool)

    def community_entries(self, day: int, rng: np.random.Generator) -> None:
        """New packages and care-home entries of people not coming from hospital."""
        pop = self.population
        older = pop.older_people()
        first_h, last_h = self.cfg.community_entry_hours
        for pool, rate, stay, origin in (
            (
                self.home_care_pool,
                self.cfg.home_care_community_starts_per_1000_65_py,
                self.cfg.home_care_days,
                Origin.HOME_CARE_START,
            ),
            (
                self.care_home_pool,
                self.cfg.care_home_community_entries_per_1000_65_py,
                self.cfg.care_home_days,
                Origin.CARE_HOME_ENTRY,
            ),
        ):
            n = rng.poisson(rate * older / 1000.0 / 365.0)
            people = pop.pick_for_place(rng, n, min_band=self.min_band, residence=Residence.HOME)
            stay_h = lognormal_from_normal(rng.standard_normal(people.size), stay.mean, stay.cv) * 24.0
            at_h = day * 24.0 + first_h + (last_h - first_h) * rng.random(people.size)
            # Hospital discharges come first: a delayed one holds an acute bed.
            self.ledger.start_places(
                people,
                pool,
                stay_h,
                origin=origin,
                at_h=at_h,
                priority=COMMUNITY_PRIORITY,
                ends_others=pool == self.care_home_pool,
            )

    def on_events(self, ev: dict[str, np.ndarray]) -> None:
        """Moves into a place change where people live; the end of a place is a death or a
        return to independence. Someone in A&E or hospital at that moment loses the place,
        and their hospital route decides what happens next."""
        if ev["time"].size == 0:
            return
        routes, pop = self.ledger.routes, self.population
        t, kind, h, pool = ev["time"], ev["kind"], ev["route"], ev["pool"]
        same_person = pop.person_id[routes.person[h]] == routes.person_id[h]
        into = (kind == CoreEvent.MOVED) & same_person
        ch = into & (pool == self.care_home_pool)
        self.care_home_entries_h.extend(t[ch & (routes.origin[h] != Origin.RESIDENT)].tolist())
        people = routes.person[h[ch]]
        for person, handle in zip(people.tolist(), h[ch].tolist()):
            # The core ended their other places as they moved in (rule 9); this ends any
            # they took up later the same day, before the model saw the move.
            self.ledger.end_places(person, keep=handle)
        pop.residence[people] = Residence.CARE_HOME
        pop.refresh(people)
        hc = into & (pool == self.home_care_pool)
        people = routes.person[h[hc]]
        for person, handle in zip(people.tolist(), h[hc].tolist()):
            if pop.residence[person] == Residence.HOME_CARE:
                # A package arranged on a discharge replaces the one they took up meanwhile.
                self.ledger.end_places(person, keep=handle)
        people = people[pop.residence[people] == Residence.HOME]
        pop.residence[people] = Residence.HOME_CARE
        pop.refresh(people)

        ended = (
            (kind == CoreEvent.DEPARTED) & same_person & (pool >= self.pools.n_acute) & ~routes.ended_early[h]
        )
        for place_pool, residence, p_death in (
            (self.care_home_pool, Residence.CARE_HOME, 1.0),
            (self.home_care_pool, Residence.HOME_CARE, self.cfg.home_care_ends_in_death),
        ):
            sel = ended & (pool == place_pool)
            holders = routes.person[h[sel]]
            holders = holders[pop.residence[holders] == residence]
            busy = pop.is_busy(holders)
            at_home = holders[~busy]
            u = self.keyed.uniform(
                pop.person_id[at_home], pop.episodes[at_home], EpisodeDraw.PLACE_ENDS_IN_DEATH
            )
            self.report_deaths(at_home[u < p_death])
            moved_out = np.concatenate([holders[busy], at_home[u >= p_death]])
            pop.residence[moved_out] = Residence.HOME
            pop.refresh(moved_out)
