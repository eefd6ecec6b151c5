"""Routes out of hospital: length of stay to medically fit, then discharge pathway P0-P3.

A route is decided when the bed is requested, from draws keyed by person and episode, so
an intervention that reorders events leaves everyone's length of stay and pathway as it
was. The person's frailty at discharge (after any deconditioning during a long stay) and
where they live decide the pathway:

- P0 home with no new support (also: a care-home resident returning to their home);
- P1 home with support: a reablement start (then perhaps long-term home care), or the
  restart of an existing package, which only takes time;
- P2 a community (intermediate-care) bed, then home, home care or a care home;
- P3 a new care-home placement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flowsim.config.schema import DischargeToAssess, FlowsimConfig, SevenDayDischarge
from flowsim.draw_slots import EpisodeDraw as Draw
from flowsim.pools import Pools
from flowsim.rng import KeyedUniforms, lognormal_from_normal
from flowsim.vocabulary import AGE_BANDS, OLDER_BANDS, Pathway, Residence
from flowsim.winter import WinterWave

MAX_LEGS = 3
P0, P1, P2, P3 = Pathway.P0, Pathway.P1, Pathway.P2, Pathway.P3


def _band(values: Mapping[Any, float]) -> np.ndarray:
    return np.array([values[b] for b in AGE_BANDS], dtype=np.float64)


@dataclass
class Routes:
    """Legs of n routes, padded to MAX_LEGS; durations in hours."""

    pools: np.ndarray  # int32 [n, MAX_LEGS]
    stays: np.ndarray
    readies: np.ndarray
    lags: np.ndarray
    n_legs: np.ndarray  # int8 [n]
    pathway: np.ndarray  # int8 [n]
    dies: np.ndarray  # bool [n]
    deconditions: np.ndarray  # bool [n]
    service_kind: np.ndarray  # int8 [n]: kind of the first onward service (pathways.delay_reasons), or -1
    ends_others: np.ndarray  # int8 [n]: the core's ends_group (rule 9): care-home leg, n_legs if dies, or -1

    def legs(self, i: int):
        """The arguments of Board.admit for route i, less the time and priorities."""
        n = int(self.n_legs[i])
        return self.pools[i, :n], self.stays[i, :n], self.readies[i, :n], self.lags[i, :n]


def stationary_residual(z: np.ndarray, u: np.ndarray, mean: float, cv: float) -> np.ndarray:
    """Remaining stay of someone already in a pool at a random moment (length-biased)."""
    return u * lognormal_from_normal(z, mean * (1.0 + cv * cv), cv)


class RouteBuilder:
    def __init__(
        self, config: FlowsimConfig, pools: Pools, keyed: KeyedUniforms, wave: WinterWave | None = None
    ):
        self.keyed = keyed
        self.wave = wave
        self.acute = config.acute
        self.pathways = config.pathways
        self.community = config.community
        self.social = config.social_care
        self.pool = {name: pools.index(name) for name in pools.names if not name.startswith("acute_")}
        self.pools = pools
        # Cumulative shares of the ward groups by age band: [band, group].
        groups = config.acute.ward_groups or []
        self.group_cum = (
            {}
            if not groups
            else {
                elective: np.cumsum(
                    np.array([[getattr(g, what)[b] for g in groups] for b in AGE_BANDS]).reshape(
                        len(AGE_BANDS), -1
                    ),
                    axis=1,
                )
                for elective, what in ((False, "emergency_share"), (True, "elective_share"))
            }
        )
        self.start_weekday = config.run.start_date.weekday()
        self.ward_lag_h = config.emergency.transfer_to_ward_hours
        a, p = config.acute, config.pathways
        self.short_share = _band(a.short_stay_share)
        self.los_days = _band(a.los_days)
        self.los_frailty = np.asarray(a.los_frailty_multiplier)
        self.death = _band(a.in_hospital_death)
        hours = np.asarray(a.discharge_hour_profile, dtype=np.float64)
        self.discharge_hour_cdf = np.cumsum(hours) / hours.sum()
        self.shares = np.stack([_band(p.p1_share), _band(p.p2_share), _band(p.p3_share)], axis=1)
        self.frailty_odds = np.asarray(p.frailty_odds_multiplier)
        levers = config.interventions
        self.d2a = [c for c in levers if isinstance(c, DischargeToAssess)]
        self.seven_day = [c for c in levers if isinstance(c, SevenDayDischarge)]
        # Cumulative shares of each onward service's kinds (who assesses and provides it).
        self.kind_cum = {
            self.pool[service]: np.cumsum([k.share for k in kinds])
            for service, kinds in p.delay_reasons.items()
        }
        self.hour_levers = [
            (c, np.cumsum(c.discharge_hour_profile) / np.sum(c.discharge_hour_profile))
            for c in self.seven_day
            if c.discharge_hour_profile is not None
        ]

    # -- acute stay ---------------------------------------------------------------------
    def _stay_to_fit_hours(self, person_id, episode, band, frailty, start_h, elective) -> np.ndarray:
        k = self.keyed
        a = self.acute
        short = (k.uniform(person_id, episode, Draw.SHORT_STAY) < self.short_share[band]) & ~elective
        short_h = lognormal_from_normal(
            k.normal(person_id, episode, Draw.SHORT_STAY_HOURS),
            a.short_stay_hours.mean,
            a.short_stay_hours.cv,
        )
        mean_days = np.where(
            elective, a.elective_los_days.mean, self.los_days[band] * self.los_frailty[frailty]
        )
        if self.wave is not None and self.wave.stay_rise > 0.0:  # winter stays are longer
            mean_days = mean_days * np.where(
                elective, 1.0, self.wave.for_people(self.wave.stay_rise, band, start_h)
            )
        cv = np.where(elective, a.elective_los_days.cv, a.los_cv)
        days = lognormal_from_normal(k.normal(person_id, episode, Draw.LOS), mean_days, cv)
        # Overnight stays end on a ward round: fit on the day the clinical stay runs out, at
        # an hour of the discharge profile; a share of weekend discharges waits for Monday.
        fit_clinical = start_h + days * 24.0
        fit_day = np.floor(fit_clinical / 24.0)
        u = k.uniform(person_id, episode, Draw.DISCHARGE_HOUR)
        if self.hour_levers:
            # Faster discharge processes: the same draw falls on an earlier (or later)
            # hour of the lever's profile, in proportion to its effect on the day.
            cdf = np.broadcast_to(self.discharge_hour_cdf, (u.size, 24))
            for c, target in self.hour_levers:
                cdf = cdf + (target - cdf) * c.effect(fit_day)[:, None]
            hour = (cdf <= u[:, None]).sum(axis=1).clip(0, 23)
        else:
            hour = np.searchsorted(self.discharge_hour_cdf, u, side="right").clip(0, 23)
        weekday = (fit_day.astype(np.int64) + self.start_weekday) % 7
        weekend_factor: float | np.ndarray = a.weekend_discharge_factor
        for c in self.seven_day:
            if c.weekend_discharge_factor is not None:
                weekend_factor = weekend_factor + (c.weekend_discharge_factor - weekend_factor) * c.effect(
                    fit_day
                )
        waits = (weekday >= 5) & (k.uniform(person_id, episode, Draw.WEEKEND) >= weekend_factor)
        fit_day = fit_day + np.where(waits, 7 - weekday, 0)
        fit_h = np.maximum(fit_day * 24.0 + hour + 0.5, start_h + 24.0)
        return np.where(short, short_h, fit_h - start_h)

    def _pathway(self, person_id, episode, band, frailty, residence, elective, day) -> np.ndarray:
        shares = self.shares[band]
        for c in self.d2a:
            # Discharge to assess: each band's P1-P3 shares move toward the D2A goals.
            goal = np.array([c.goal_shares["P1"], c.goal_shares["P2"], c.goal_shares["P3"]])
            shift = c.pathway_shift * c.effect(day) * (band >= AGE_BANDS.index(c.min_age_band))
            shares = shares + (goal - shares) * shift[:, None]
        total = shares.sum(axis=1, keepdims=True)
        m = self.frailty_odds[frailty][:, None]
        shares = shares * m / (1.0 - total + total * m)
        cum = np.cumsum(shares, axis=1)
        u = self.keyed.uniform(person_id, episode, Draw.PATHWAY)
        pathway = np.where(u < cum[:, 0], P1, np.where(u < cum[:, 1], P2, np.where(u < cum[:, 2], P3, P0)))
        pathway = np.where(elective, np.where(u < self.pathways.elective_p1_share, P1, P0), pathway)
        return np.where(residence == Residence.CARE_HOME, P0, pathway).astype(np.int8)

    def ward_group(self, person_id, episode, band, elective) -> np.ndarray:
        """The ward group (specialty) of each admission: 0 when the beds are one group."""
        n_groups = len(self.pools.groups)
        if n_groups == 1:
            return np.zeros(person_id.size, dtype=np.int32)
        u = self.keyed.uniform(person_id, episode, Draw.WARD_GROUP)
        cum = np.where(elective[:, None], self.group_cum[True][band], self.group_cum[False][band])
        return (u[:, None] * cum[:, -1:] >= cum).sum(axis=1).clip(0, n_groups - 1).astype(np.int32)

    def acute_routes(
        self,
        person_id: np.ndarray,
        episode: np.ndarray,
        band: np.ndarray,
        frailty: np.ndarray,
        residence: np.ndarray,
        site: np.ndarray,
        request_h: np.ndarray,
        elective: np.ndarray,
    ) -> Routes:
        k = self.keyed
        n = person_id.size
        elective = np.asarray(elective, dtype=bool)
        # The stay runs from arrival on the ward: the request plus the transfer (boarding
        # beyond that is not known yet, so a long boarder's ward round falls later).
        ward_lag = np.where(elective, 0.0, self.ward_lag_h)
        stay0 = self._stay_to_fit_hours(person_id, episode, band, frailty, request_h + ward_lag, elective)
        older = band >= OLDER_BANDS
        deconditions = (
            older
            & (stay0 >= self.acute.deconditioning_days * 24.0)
            & (k.uniform(person_id, episode, Draw.DECONDITION) < self.acute.deconditioning_probability)
        )
        frailty_out = np.minimum(frailty + deconditions, 3)
        dies = (
            (residence == Residence.HOME)
            & (k.uniform(person_id, episode, Draw.DEATH) < self.death[band])
            & ~elective
        )
        day = request_h // 24.0
        pathway = self._pathway(person_id, episode, band, frailty_out, residence, elective, day)
        pathway = np.where(dies, P0, pathway).astype(np.int8)

        routes = Routes(
            pools=np.full((n, MAX_LEGS), -1, dtype=np.int32),
            stays=np.zeros((n, MAX_LEGS)),
            readies=np.zeros((n, MAX_LEGS)),
            lags=np.zeros((n, MAX_LEGS)),
            n_legs=np.ones(n, dtype=np.int8),
            pathway=pathway,
            dies=dies,
            deconditions=deconditions,
            service_kind=np.full(n, -1, dtype=np.int8),
            ends_others=np.full(n, -1, dtype=np.int8),
        )
        routes.pools[:, 0] = self.pools.acute(site, self.ward_group(person_id, episode, band, elective))
        routes.stays[:, 0] = stay0
        routes.lags[:, 0] = ward_lag
        self._onward(routes, person_id, episode, residence)
        self._service_kind(routes, person_id, episode)
        if self.d2a or self.seven_day:
            self._discharge_levers(routes, day)
        # The point at which the person's other places end (core rule 9): the move into a
        # care home, or the end of the stay for someone who dies there.
        care_home = routes.pools == self.pool["care_home"]
        routes.ends_others[:] = np.where(
            care_home.any(axis=1), care_home.argmax(axis=1), np.where(dies, routes.n_legs, -1)
        )
        return routes

    def _service_kind(self, r: Routes, person_id, episode) -> None:
        """Which kind of its first onward service each route waits for (say, a nursing or a
        residential home): the DTOC reason and who answers for the wait follow from it."""
        onward = r.n_legs > 1
        if not onward.any():
            return
        u = self.keyed.uniform(person_id, episode, Draw.SERVICE_KIND)
        first = r.pools[:, 1]
        for pool, cum in self.kind_cum.items():
            sel = onward & (first == pool)
            r.service_kind[sel] = (u[sel, None] >= cum[None, :-1]).sum(axis=1)

    def _discharge_levers(self, r: Routes, day: np.ndarray) -> None:
        """Shorter waits once fit, from the levers in effect on the day the bed is requested.

        Faster discharge processes cut the wait for assessment and the transfer lag; discharge
        to assess moves part of the assessment out of the acute bed into the service the
        patient goes to (its first stay grows by as much), so the assessment is still done.
        """
        onward = (r.n_legs > 1) & (r.readies[:, 1] > 0.0) & (r.pools[:, 1] != self.pool["home"])
        ready, lag = r.readies[:, 1], r.lags[:, 1]
        for c in self.seven_day:
            share = c.effect(day)
            ready = np.where(onward, ready * (1.0 + c.assessment_hours_change * share), ready)
            lag = np.where(onward, lag * (1.0 + c.transfer_lag_change * share), lag)
        for d2a in self.d2a:
            moved = np.where(onward, ready * d2a.assessment_moved_share * d2a.effect(day), 0.0)
            ready = ready - moved
            r.stays[:, 1] += moved
        r.readies[:, 1], r.lags[:, 1] = ready, lag

    # -- onward legs --------------------------------------------------------------------
    def _onward(self, r: Routes, person_id, episode, residence) -> None:
        k, p, c, s = self.keyed, self.pathways, self.community, self.social
        pool = self.pool
        u_kind = k.uniform(person_id, episode, Draw.P1_KIND)
        u_onward = k.uniform(person_id, episode, Draw.ONWARD)
        stay1 = k.normal(person_id, episode, Draw.STAY1)
        stay2 = k.normal(person_id, episode, Draw.STAY2)
        has_package = residence == Residence.HOME_CARE

        def leg(mask, i, name, stay_h, ready_h, lag_h):
            r.pools[mask, i] = pool[name]
            r.stays[mask, i] = stay_h[mask] if np.ndim(stay_h) else stay_h
            r.readies[mask, i] = ready_h
            r.lags[mask, i] = lag_h
            r.n_legs[mask] = i + 1

        reablement_h = lognormal_from_normal(stay1, c.reablement_days.mean, c.reablement_days.cv) * 24.0
        community_h = lognormal_from_normal(stay1, c.community_bed_days.mean, c.community_bed_days.cv) * 24.0
        care_home_h1 = lognormal_from_normal(stay1, s.care_home_days.mean, s.care_home_days.cv) * 24.0
        home_care_h2 = lognormal_from_normal(stay2, s.home_care_days.mean, s.home_care_days.cv) * 24.0
        care_home_h2 = lognormal_from_normal(stay2, s.care_home_days.mean, s.care_home_days.cv) * 24.0
        ready, lag = p.assessment_hours, p.transfer_lag_hours

        p1 = r.pathway == P1
        restart = p1 & np.where(has_package, u_kind < p.home_care_p1_share, u_kind >= p.p1_new_support_share)
        reable = p1 & ~restart
        leg(restart, 1, "home", 0.0, p.p1_restart_hours, 0.0)
        leg(reable, 1, "reablement", reablement_h, ready["P1"], lag["P1"])
        to_home_care = reable & ~has_package & (u_onward < c.reablement_to_home_care)
        leg(to_home_care, 2, "home_care", home_care_h2, ready["P1"], lag["P1"])

        p2 = r.pathway == P2
        leg(p2, 1, "community_beds", community_h, ready["P2"], lag["P2"])
        p2_care_home = p2 & (u_onward < c.community_onward_care_home)
        p2_home_care = (
            p2
            & ~p2_care_home
            & ~has_package
            & (u_onward < c.community_onward_care_home + c.community_onward_home_care)
        )
        leg(p2_care_home, 2, "care_home", care_home_h2, ready["P3"], lag["P3"])
        leg(p2_home_care, 2, "home_care", home_care_h2, ready["P1"], lag["P1"])

        p3 = r.pathway == P3
        leg(p3, 1, "care_home", care_home_h1, ready["P3"], lag["P3"])
