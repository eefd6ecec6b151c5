"""Site consolidation on the day it happens: practices, A&E staff and queued patients move.

The beds move on the core's capacity timetable (Pools.capacity_schedule). What cannot be
scheduled in advance happens here at the start of the closing day: the closing site's
practices join the receiving sites' catchments (their ambulance journeys lengthen), its
A&E rota joins theirs, and anyone still queued for one of its beds may be placed in the
same ward group at a receiving site (the core's outlying rule, from that day only).
"""

from __future__ import annotations

from flowsim.catchment import Catchment
from flowsim.clock import CoreClock
from flowsim.config.schema import Consolidation, FlowsimConfig
from flowsim.pools import Pools
from flowsim.services.emergency import Emergency


class SiteClosures:
    def __init__(
        self,
        config: FlowsimConfig,
        *,
        pools: Pools,
        clock: CoreClock,
        catchment: Catchment,
        emergency: Emergency,
    ):
        self.closures = [c for c in config.interventions if isinstance(c, Consolidation)]
        self.pools = pools
        self.clock = clock
        self.catchment = catchment
        self.emergency = emergency

    def start_of_day(self, day: int) -> None:
        for change in self.closures:
            if change.start_day == day:
                self._close(change)

    def _close(self, change: Consolidation) -> None:
        pools, board = self.pools, self.clock.board
        closing = pools.sites.index(change.closing_site)
        receivers = [(pools.sites.index(name), share) for name, share in change.receiving_sites.items()]
        self.catchment.reassign(closing, receivers, change.extra_travel_minutes / 60.0)
        self.emergency.merge_site(closing, receivers)
        self.clock.pump()
        for g, pool in enumerate(pools.group_pools(closing)):
            for site, _ in receivers:
                into = int(pools.acute(site, g))
                board.allow_outlying(pool, into, 1.0)
                # Setting the capacity it already has offers its free beds to the queue just allowed in.
                board.schedule_capacity(self.clock.env.now, into, board.capacity(into))
        self.clock.pump()
