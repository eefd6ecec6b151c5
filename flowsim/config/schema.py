"""The config schema: every lever and rate of the model, validated strictly.

Defaults live in `configs/footprint.yaml` with their sources, not here: fields below are
required unless a default is structural (an empty list, a switch that is off).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowsim.vocabulary import (
    AGE_BANDS,
    AgeBand,
    DtocResponsibility,
    Organisation,
    ResidenceName,
)

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
PerAgeBand = dict[AgeBand, NonNeg]
PerFrailty = Annotated[list[NonNeg], Field(min_length=4, max_length=4)]


class Strict(BaseModel):
    """Refuses unknown keys and is immutable, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _all_bands(value: dict, what: str) -> dict:
    missing = [b for b in AGE_BANDS if b not in value]
    if missing:
        raise ValueError(f"{what} needs a value for every age band; missing {missing}")
    return value


class Distribution(Strict):
    """A positive duration: lognormal by its mean and coefficient of variation."""

    mean: Positive
    cv: NonNeg = 1.0


class RunConfig(Strict):
    start_date: dt.date
    horizon_days: Annotated[int, Field(ge=1, le=20 * 365)]
    warmup_days: Annotated[int, Field(ge=0, le=5 * 365)]
    seed: Annotated[int, Field(ge=0)]
    replications: Annotated[int, Field(ge=1, le=10_000)] = 1


class DayEffect(Strict):
    """A day-level random effect on emergency demand: busy days beyond Poisson, clustered.

    Each day's walk-in and ambulance rates are multiplied by exp(sd * z - sd^2 / 2), where z
    is a standard normal that follows an AR(1) process from day to day.
    """

    sd: NonNeg
    autocorrelation: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0


class DemandConfig(Strict):
    """Yearly rates per person, as the average of each age band at the start of the run.

    The multipliers spread a band's rate across its people (the frail and care-home
    residents get more of it); the band's starting average stays as configured, so the
    rates can be read straight off national tables.
    """

    walk_in_per_1000_py: PerAgeBand
    ambulance_per_1000_py: PerAgeBand
    gp_contacts_per_person_py: PerAgeBand
    frailty_multiplier: PerFrailty
    care_home_multiplier: Positive
    home_care_multiplier: Positive
    recent_discharge_multiplier: Annotated[float, Field(ge=1.0)]  # raised risk: 1 means none
    recent_discharge_days: NonNeg
    month_factor_walk_in: Annotated[list[Positive], Field(min_length=12, max_length=12)]
    month_factor_ambulance: Annotated[list[Positive], Field(min_length=12, max_length=12)]
    weekday_factor: Annotated[list[Positive], Field(min_length=7, max_length=7)]
    hour_profile: Annotated[list[NonNeg], Field(min_length=24, max_length=24)]
    day_effect: DayEffect | None = None  # none: Poisson variation only


class PopulationConfig(Strict):
    size: Annotated[int, Field(ge=10_000, le=3_000_000)]
    age_shares: PerAgeBand
    male_share: Fraction
    frailty_shares: dict[str, Annotated[list[Fraction], Field(min_length=4, max_length=4)]]
    frailty_step_per_1000_py: PerAgeBand
    frailty_step_factor_by_level: Annotated[list[NonNeg], Field(min_length=3, max_length=3)]
    mortality_per_1000_py: PerAgeBand
    mortality_hr_by_frailty: PerFrailty
    home_care_share: PerAgeBand
    care_home_share: PerAgeBand
    practices: Annotated[int, Field(ge=1)]
    localities: Annotated[int, Field(ge=1)]
    demand: DemandConfig

    _bands = field_validator(
        "age_shares",
        "frailty_step_per_1000_py",
        "mortality_per_1000_py",
        "home_care_share",
        "care_home_share",
    )(lambda v, info: _all_bands(v, info.field_name))

    @field_validator("age_shares")
    @classmethod
    def _shares_sum_to_one(cls, v: dict) -> dict:
        if not math.isclose(sum(v.values()), 1.0, abs_tol=1e-3):
            raise ValueError(f"age shares must sum to 1, not {sum(v.values()):.4f}")
        return v

    @field_validator("frailty_shares")
    @classmethod
    def _frailty_rows(cls, v: dict) -> dict:
        _all_bands(v, "frailty_shares")
        for band, row in v.items():
            if band not in AGE_BANDS:
                raise ValueError(f"unknown age band {band!r}; expected one of {AGE_BANDS}")
            if not math.isclose(sum(row), 1.0, abs_tol=1e-3):
                raise ValueError(f"frailty shares for {band} must sum to 1")
        return v


class PrimaryCareConfig(Strict):
    appointments_per_1000_weekday: Positive
    weekend_demand_factor: Fraction
    overflow_deferred_share: Fraction
    overflow_to_ae_share: Fraction
    referral_to_ae_share: Fraction
    direct_admission_share: Fraction
    gp_referral_hour_profile: Annotated[list[NonNeg], Field(min_length=24, max_length=24)]
    travel_to_ae_hours: Annotated[float, Field(ge=0.0, le=24.0)]

    @model_validator(mode="after")
    def _overflow(self) -> PrimaryCareConfig:
        if self.overflow_deferred_share + self.overflow_to_ae_share > 1:
            raise ValueError("overflow_deferred_share + overflow_to_ae_share must be <= 1")
        return self


class EmergencyConfig(Strict):
    clinicians_by_hour: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=24, max_length=24)]
    assessment_hours: Distribution
    treatment_hours: Distribution
    admit_probability: PerAgeBand
    admit_frailty_multiplier: PerFrailty
    admit_ambulance_multiplier: Positive
    admit_month_factor: Annotated[list[Positive], Field(min_length=12, max_length=12)]
    admit_probability_cap: Fraction
    transfer_to_ward_hours: NonNeg
    avoidance_share: PerAgeBand
    virtual_ward_slots: Annotated[int, Field(ge=0)]
    virtual_ward_days: Distribution


class SiteConfig(Strict):
    name: str
    beds: Annotated[int, Field(ge=0)]
    catchment_share: Fraction


class WardGroup(Strict):
    """Beds ring-fenced for a group of specialties at every site, and who belongs there."""

    name: str
    bed_share: Fraction  # of each site's general and acute beds
    emergency_share: PerAgeBand  # of emergency admissions of each age band
    elective_share: PerAgeBand  # of elective admissions of each age band
    outlie_to: list[str] = []  # groups its patients may be placed in when it is full, in order
    outlier_reserve_share: Fraction = 0.0  # of its beds kept free from other groups' outliers

    _bands = field_validator("emergency_share", "elective_share")(
        lambda v, info: _all_bands(v, info.field_name)
    )


class EscalationConfig(Strict):
    """Escalation beds a site opens under pressure, and electives it cancels then."""

    beds_share: Fraction  # escalation beds per site, as a share of its ward-group beds
    open_at: Positive  # (occupied + waiting) / beds at a review that opens them
    close_below: Positive  # occupied / beds at a review that closes them (patients drain out)
    review_hours: Annotated[list[Annotated[float, Field(ge=0, lt=24)]], Field(min_length=1)]
    for_groups: list[str]  # ward groups whose patients may be placed in escalation beds
    elective_cancel_share: Fraction  # of the day's electives at a site escalated at midnight

    @model_validator(mode="after")
    def _hysteresis(self) -> EscalationConfig:
        if self.close_below > self.open_at:
            raise ValueError("escalation close_below must not exceed open_at")
        return self


class AcuteConfig(Strict):
    sites: Annotated[list[SiteConfig], Field(min_length=1)]
    # Ward groups by specialty; none means one group of interchangeable beds per site.
    ward_groups: list[WardGroup] = []
    outlier_stay_factor: Annotated[float, Field(ge=1.0)] = 1.0  # stay of a patient placed outside their group
    # Hours a patient waits for a bed before another group's reserve is waived for them
    # (core rule 2b); none: never.
    reserve_waived_after_hours: NonNeg | None = None
    escalation: EscalationConfig | None = None
    beds_scale: Positive = 1.0
    initial_occupancy: Fraction
    warm_start_candidate_days: Annotated[float, Field(gt=0.0, le=3650.0)]
    short_stay_share: PerAgeBand
    short_stay_hours: Distribution
    los_days: PerAgeBand
    los_cv: NonNeg
    los_frailty_multiplier: PerFrailty
    discharge_hour_profile: Annotated[list[NonNeg], Field(min_length=24, max_length=24)]
    weekend_discharge_factor: Fraction
    in_hospital_death: PerAgeBand
    deconditioning_days: Positive
    deconditioning_probability: Fraction
    elective_admissions_per_weekday: NonNeg
    elective_age_shares: PerAgeBand
    elective_arrival_hour: Annotated[float, Field(ge=0, lt=24)]
    elective_arrival_spread_hours: Annotated[float, Field(ge=0, le=24)]
    elective_max_wait_hours: NonNeg
    elective_los_days: Distribution

    @model_validator(mode="after")
    def _groups(self) -> AcuteConfig:
        groups = self.ward_groups
        names = [g.name for g in groups]
        if len(set(names)) != len(names):
            raise ValueError("ward group names must be unique")
        if groups:
            total = sum(g.bed_share for g in groups)
            if not math.isclose(total, 1.0, abs_tol=1e-3):
                raise ValueError(f"ward group bed shares must sum to 1, not {total:.4f}")
            for what in ("emergency_share", "elective_share"):
                for band in AGE_BANDS:
                    total = sum(getattr(g, what)[band] for g in groups)
                    if not math.isclose(total, 1.0, abs_tol=1e-3):
                        raise ValueError(f"ward group {what} for {band} must sum to 1, not {total:.4f}")
        for g in groups:
            for other in g.outlie_to:
                if other not in names or other == g.name:
                    raise ValueError(f"ward group {g.name!r}: outlie_to names unknown group {other!r}")
        if self.escalation is not None:
            for other in self.escalation.for_groups:
                if other not in (names or ["all"]):
                    raise ValueError(f"escalation for_groups names unknown ward group {other!r}")
        return self

    @field_validator("sites")
    @classmethod
    def _catchment(cls, v: list[SiteConfig]) -> list[SiteConfig]:
        total = sum(s.catchment_share for s in v)
        if not math.isclose(total, 1.0, abs_tol=1e-3):
            raise ValueError(f"site catchment shares must sum to 1, not {total:.4f}")
        if len({s.name for s in v}) != len(v):
            raise ValueError("site names must be unique")
        return v


class PathwaysConfig(Strict):
    """Shares by age band of P1/P2/P3 among discharges from home (the rest are P0)."""

    p1_share: PerAgeBand
    p2_share: PerAgeBand
    p3_share: PerAgeBand
    frailty_odds_multiplier: PerFrailty
    home_care_p1_share: Fraction
    assessment_hours: dict[Literal["P1", "P2", "P3"], NonNeg]
    transfer_lag_hours: dict[Literal["P1", "P2", "P3"], NonNeg]
    p1_new_support_share: Fraction
    p1_restart_hours: NonNeg
    elective_p1_share: Fraction
    dtoc_responsibility: dict[Literal["P1", "P2", "P3", "assessment"], DtocResponsibility]


class CommunityConfig(Strict):
    community_beds: Annotated[int, Field(ge=0)]
    community_bed_days: Distribution
    community_onward_home_care: Fraction
    community_onward_care_home: Fraction
    reablement_slots: Annotated[int, Field(ge=0)]
    reablement_days: Distribution
    reablement_to_home_care: Fraction
    initial_occupancy: Fraction


class SocialCareConfig(Strict):
    home_care_packages: Annotated[int, Field(ge=0)]
    home_care_days: Distribution
    home_care_ends_in_death: Fraction
    home_care_community_starts_per_1000_65_py: NonNeg
    care_home_places: Annotated[int, Field(ge=0)]
    care_home_days: Distribution
    care_home_community_entries_per_1000_65_py: NonNeg
    community_entry_min_age_band: AgeBand
    community_entry_hours: tuple[Annotated[float, Field(ge=0, le=24)], Annotated[float, Field(ge=0, le=24)]]

    @field_validator("community_entry_hours")
    @classmethod
    def _office_hours(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[1] < v[0]:
            raise ValueError("community_entry_hours must be [first hour, last hour] with first <= last")
        return v


class CostItem(Strict):
    unit_cost: NonNeg
    payer: Organisation


class CostsConfig(Strict):
    """Unit costs in pounds at the config's price base, each borne by one organisation."""

    price_base: str
    ae_attendance: CostItem
    ambulance_conveyance: CostItem
    non_elective_episode: CostItem
    excess_bed_day: CostItem
    excess_trim_days: NonNeg
    delayed_bed_day: CostItem
    elective_episode: CostItem
    gp_consultation: CostItem
    community_bed_day: CostItem
    reablement_day: CostItem
    home_care_day: CostItem
    care_home_day: CostItem
    virtual_ward_day: CostItem
    escalation_bed_day: CostItem | None = None  # a patient-day in an escalation bed


PoolName = Literal["acute", "community_beds", "reablement", "home_care", "care_home", "virtual_ward"]


class CapacityChange(Strict):
    """Change a pool's capacity by a relative amount, ramped linearly from start_day."""

    kind: Literal["capacity"] = "capacity"
    name: str
    pool: PoolName
    site: str | None = None
    relative_change: Annotated[float, Field(ge=-1.0)]
    start_day: Annotated[int, Field(ge=0)]
    ramp_days: Annotated[int, Field(ge=0)] = 0


class RunningCost(Strict):
    """A fixed yearly cost of a new service (double running while the old one still runs)."""

    kind: Literal["running_cost"] = "running_cost"
    name: str
    payer: Organisation
    annual_cost: NonNeg
    start_day: Annotated[int, Field(ge=0)]
    end_day: Annotated[int, Field(ge=0)] | None = None


class DemandChange(Strict):
    """Scale emergency demand (walk-in and ambulance) of a group, ramped from start_day."""

    kind: Literal["demand"] = "demand"
    name: str
    relative_change: Annotated[float, Field(ge=-1.0)]
    residence: ResidenceName | None = None
    min_age_band: AgeBand = "0-15"
    start_day: Annotated[int, Field(ge=0)]
    ramp_days: Annotated[int, Field(ge=0)] = 0


Intervention = Annotated[CapacityChange | RunningCost | DemandChange, Field(discriminator="kind")]


class OutputsConfig(Strict):
    episodes: bool = False


class FlowsimConfig(Strict):
    schema_version: Literal[1]
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    run: RunConfig
    population: PopulationConfig
    primary_care: PrimaryCareConfig
    emergency: EmergencyConfig
    acute: AcuteConfig
    pathways: PathwaysConfig
    community: CommunityConfig
    social_care: SocialCareConfig
    costs: CostsConfig
    interventions: list[Intervention] = []
    outputs: OutputsConfig = OutputsConfig()

    @property
    def total_days(self) -> int:
        return self.run.warmup_days + self.run.horizon_days
