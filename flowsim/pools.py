"""The capacity pools of a footprint: acute beds per site and the services downstream.

Pool numbers are the core's; names are what the results and the dashboard show. A site's
acute beds are one pool per ward group (one group of interchangeable beds unless the
config splits them by specialty), then, if escalation is configured, its escalation beds
(a pool of no beds until the site opens them). Acute pools come first, site by site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flowsim.budget import care_capacity_factors
from flowsim.config.schema import (
    AdmissionAvoidance,
    CapacityChange,
    Consolidation,
    FlowsimConfig,
    SocialCareBudget,
)
from flowsim.vocabulary import DOWNSTREAM_POOLS

# A pool that never fills: "home", where a restart of support only takes time.
UNLIMITED = 1 << 40


def split_beds(beds: int, shares: list[float]) -> list[int]:
    """Beds split by shares, whole beds adding up to `beds` (largest remainders)."""
    exact = [beds * s / sum(shares) for s in shares]
    whole = [math.floor(x) for x in exact]
    for i in sorted(range(len(shares)), key=lambda i: whole[i] - exact[i])[: beds - sum(whole)]:
        whole[i] += 1
    return whole


@dataclass(frozen=True)
class Pools:
    names: tuple[str, ...]
    capacities: tuple[int, ...]
    sites: tuple[str, ...]
    groups: tuple[str, ...] = ("all",)
    escalation: bool = False

    @classmethod
    def from_config(cls, config: FlowsimConfig) -> Pools:
        a = config.acute
        sites = tuple(s.name for s in a.sites)
        groups = tuple(g.name for g in a.ward_groups) or ("all",)
        shares = [g.bed_share for g in a.ward_groups] or [1.0]
        escalation = a.escalation is not None
        names: list[str] = []
        acute: list[int] = []
        for site in a.sites:
            beds = split_beds(round(site.beds * a.beds_scale), shares)
            if len(groups) == 1 and not escalation:
                names.append(f"acute_{site.name}")
            else:
                names += [f"acute_{site.name}_{g}" for g in groups]
            acute += beds
            if escalation:
                names.append(f"acute_{site.name}_escalation")
                acute.append(0)
        downstream = [
            config.community.community_beds,
            config.community.reablement_slots,
            config.social_care.home_care_packages,
            config.social_care.care_home_places,
            config.emergency.virtual_ward_slots,
            UNLIMITED,
        ]
        return cls(
            names=tuple(names) + DOWNSTREAM_POOLS,
            capacities=tuple(acute + downstream),
            sites=sites,
            groups=groups,
            escalation=escalation,
        )

    @property
    def n_sites(self) -> int:
        return len(self.sites)

    @property
    def per_site(self) -> int:
        """Acute pools at each site: its ward groups, then its escalation beds if any."""
        return len(self.groups) + int(self.escalation)

    @property
    def n_acute(self) -> int:
        """Acute pools: numbered 0 .. n_acute - 1; the services downstream follow."""
        return self.n_sites * self.per_site

    def index(self, name: str) -> int:
        return self.names.index(name)

    def acute(self, site: int | np.ndarray, group: int | np.ndarray = 0) -> int | np.ndarray:
        """The pool of a ward group at a site."""
        return site * self.per_site + group

    def group_pools(self, site: int) -> list[int]:
        """The ward-group pools of a site (its escalation beds not included)."""
        return [site * self.per_site + g for g in range(len(self.groups))]

    def escalation_pool(self, site: int) -> int:
        return site * self.per_site + len(self.groups)

    def escalation_pools(self) -> list[int]:
        return [self.escalation_pool(s) for s in range(self.n_sites)] if self.escalation else []

    def site_of_pool(self) -> np.ndarray:
        """The site of each pool, -1 for a pool outside hospital."""
        site = np.full(len(self.names), -1, dtype=np.int16)
        site[: self.n_acute] = np.arange(self.n_acute) // self.per_site
        return site

    def targets(self, change: CapacityChange) -> list[int]:
        """The pools an intervention changes: one site, every site, or one service."""
        if change.pool == "acute":
            if change.site is None:
                return [p for s in range(self.n_sites) for p in self.group_pools(s)]
            if change.site not in self.sites:
                raise ValueError(f"intervention {change.name!r}: unknown site {change.site!r}")
            return self.group_pools(self.sites.index(change.site))
        return [self.index(change.pool)]

    def outlying_rules(self, config: FlowsimConfig) -> list[tuple[int, int, float, int, float]]:
        """(pool, into, stay factor, reserve, reserve waived after hours) for the core's
        allow_outlying, in the order to try them: at each site, a ward group's outlets as
        configured, then escalation beds."""
        a = config.acute
        rules: list[tuple[int, int, float, int, float]] = []
        after = a.reserve_waived_after_hours
        waived_after = math.inf if after is None else after
        outlets = {g.name: g.outlie_to for g in a.ward_groups}
        reserve = {g.name: g.outlier_reserve_share for g in a.ward_groups}
        escalated = set(a.escalation.for_groups) if a.escalation is not None else set()
        for s in range(self.n_sites):
            for g, name in enumerate(self.groups):
                pool = s * self.per_site + g
                for other in outlets.get(name, []):
                    into = s * self.per_site + self.groups.index(other)
                    kept = round(reserve[other] * self.capacities[into])
                    # no reserve, nothing to waive (and no re-checks on the core's calendar)
                    rules.append(
                        (pool, into, a.outlier_stay_factor, kept, waived_after if kept else math.inf)
                    )
                if name in escalated:
                    rules.append((pool, self.escalation_pool(s), 1.0, 0, math.inf))
        return rules

    def capacity_schedule(self, config: FlowsimConfig) -> list[tuple[float, int, int]]:
        """(time in hours, pool, capacity) steps of the capacity interventions, ramped daily.

        Changes to the same pool compound: a 10% rise for every site and a 20% cut at one
        site leave that site at 1.1 x 0.8 of its beds once both have ramped in. A social-care
        budget change is a change of the home-care and care-home pools (budget.py); a site
        consolidation moves beds from the closing site's ward groups into the receiving
        sites' (so the changes above scale the merged pool) and takes a share of the
        receiving beds out for its transition.
        """
        changes: dict[int, list[tuple[float, int, int]]] = {}  # (relative change, start, ramp days)
        for change in config.interventions:
            if isinstance(change, CapacityChange):
                for pool in self.targets(change):
                    changes.setdefault(pool, []).append(
                        (change.relative_change, change.start_day, change.ramp_days)
                    )
            elif isinstance(change, SocialCareBudget):
                for name, factor in care_capacity_factors(config, change).items():
                    changes.setdefault(self.index(name), []).append(
                        (factor - 1.0, change.start_day, change.ramp_days)
                    )
        # Admission avoidance adds whole slots to the virtual ward, ramped in, until it ends.
        slots = [c for c in config.interventions if isinstance(c, AdmissionAvoidance) and c.extra_slots]
        virtual_ward = self.index("virtual_ward")
        if slots:
            changes.setdefault(virtual_ward, [])
        moves, outages = self._consolidation_steps(config)
        steps: list[tuple[float, int, int]] = []
        for pool in sorted(set(changes) | set(moves) | set(outages)):
            pool_changes = changes.get(pool, [])
            days = {start + d for _, start, ramp in pool_changes for d in range(max(ramp, 1))}
            days |= {day for day, _ in moves.get(pool, [])}
            days |= {day for start, end, _ in outages.get(pool, []) for day in (start, end)}
            if pool == virtual_ward:
                days |= {c.start_day + d for c in slots for d in range(max(c.ramp_days, 1))}
                days |= {c.end_day for c in slots if c.end_day is not None}
            for day in sorted(days):
                factor = 1.0
                for relative, start, ramp in pool_changes:
                    ramp = max(ramp, 1)
                    done = min(max(day - start + 1, 0), ramp) / ramp
                    factor *= 1.0 + relative * done
                for start, end, share in outages.get(pool, []):
                    if start <= day < end:
                        factor *= 1.0 - share
                base = self.capacities[pool] + sum(beds for when, beds in moves.get(pool, []) if when <= day)
                capacity = base * factor
                if pool == virtual_ward:
                    capacity += sum(c.extra_slots * c.effect(day) for c in slots)
                steps.append((day * 24.0, pool, max(0, round(capacity))))
        return sorted(steps)

    def _consolidation_steps(
        self, config: FlowsimConfig
    ) -> tuple[dict[int, list[tuple[int, int]]], dict[int, list[tuple[int, int, float]]]]:
        """Beds moved by site consolidations, as (day, beds added) by pool, and the
        transitions' unavailable shares, as (first day, day after, share) by pool."""
        moves: dict[int, list[tuple[int, int]]] = {}
        outages: dict[int, list[tuple[int, int, float]]] = {}
        for change in config.interventions:
            if not isinstance(change, Consolidation):
                continue
            closing = self.sites.index(change.closing_site)
            receivers = [(self.sites.index(name), share) for name, share in change.receiving_sites.items()]
            start, end = change.start_day, change.start_day + change.transition_days
            for g, pool in enumerate(self.group_pools(closing)):
                beds = self.capacities[pool]
                moves.setdefault(pool, []).append((start, -beds))
                kept = round(beds * change.beds_kept_share)
                split = split_beds(kept, [share for _, share in receivers])
                for (site, _), moved in zip(receivers, split, strict=True):
                    moves.setdefault(int(self.acute(site, g)), []).append((start, moved))
            if end > start and change.transition_beds_unavailable_share > 0:
                for site, _ in receivers:
                    for pool in self.group_pools(site):
                        outages.setdefault(pool, []).append(
                            (start, end, change.transition_beds_unavailable_share)
                        )
        return moves, outages
