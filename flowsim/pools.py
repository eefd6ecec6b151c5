"""The capacity pools of a footprint: acute beds per site and the services downstream.

Pool numbers are the core's; names are what the results and the dashboard show.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowsim.config.schema import CapacityChange, FlowsimConfig
from flowsim.vocabulary import DOWNSTREAM_POOLS

# A pool that never fills: "home", where a restart of support only takes time.
UNLIMITED = 1 << 40


@dataclass(frozen=True)
class Pools:
    names: tuple[str, ...]
    capacities: tuple[int, ...]
    sites: tuple[str, ...]

    @classmethod
    def from_config(cls, config: FlowsimConfig) -> Pools:
        sites = tuple(s.name for s in config.acute.sites)
        acute = [round(s.beds * config.acute.beds_scale) for s in config.acute.sites]
        downstream = [
            config.community.community_beds,
            config.community.reablement_slots,
            config.social_care.home_care_packages,
            config.social_care.care_home_places,
            config.emergency.virtual_ward_slots,
            UNLIMITED,
        ]
        names = tuple(f"acute_{s}" for s in sites) + DOWNSTREAM_POOLS
        return cls(names=names, capacities=tuple(acute + downstream), sites=sites)

    @property
    def n_sites(self) -> int:
        return len(self.sites)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def acute(self, site: int) -> int:
        return site

    def targets(self, change: CapacityChange) -> list[int]:
        """The pools an intervention changes: one site, every site, or one service."""
        if change.pool == "acute":
            if change.site is None:
                return list(range(self.n_sites))
            if change.site not in self.sites:
                raise ValueError(f"intervention {change.name!r}: unknown site {change.site!r}")
            return [self.sites.index(change.site)]
        return [self.index(change.pool)]

    def capacity_schedule(self, config: FlowsimConfig) -> list[tuple[float, int, int]]:
        """(time in hours, pool, capacity) steps of the capacity interventions, ramped daily.

        Changes to the same pool compound: a 10% rise for every site and a 20% cut at one
        site leave that site at 1.1 x 0.8 of its beds once both have ramped in.
        """
        changes: dict[int, list[CapacityChange]] = {}
        for change in config.interventions:
            if isinstance(change, CapacityChange):
                for pool in self.targets(change):
                    changes.setdefault(pool, []).append(change)
        steps: list[tuple[float, int, int]] = []
        for pool, pool_changes in sorted(changes.items()):
            days = sorted({c.start_day + d for c in pool_changes for d in range(max(c.ramp_days, 1))})
            for day in days:
                factor = 1.0
                for c in pool_changes:
                    ramp = max(c.ramp_days, 1)
                    done = min(max(day - c.start_day + 1, 0), ramp) / ramp
                    factor *= 1.0 + c.relative_change * done
                steps.append((day * 24.0, pool, max(0, round(self.capacities[pool] * factor))))
        return sorted(steps)
