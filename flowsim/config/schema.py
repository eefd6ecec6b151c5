"""The config schema: every lever and rate of the model, validated strictly.

Defaults live in `configs/footprint.yaml` with their sources, not here: fields below are
required unless a default is structural (an empty list, a switch that is off).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from flowsim.vocabulary import (
    AGE_BANDS,
    COMMISSIONERS,
    AgeBand,
    Commissioner,
    DtocReason,
    DtocResponsibility,
    FrailtyLevel,
    Organisation,
    PaymentRule,
    ResidenceName,
)

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
PerAgeBand = dict[AgeBand, NonNeg]
PerFrailty = Annotated[list[NonNeg], Field(min_length=4, max_length=4)]


class Strict(BaseModel):
    """Refuses unknown keys and is immutable, so a typo never silently does nothing.

    Types are strict (`true` is not a number, 900.0 is not a count) and numbers finite.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------
# Bounds. Each is far beyond any real footprint (the largest of England's 44 has about
# 3 million people; published rates sit beside each value in configs/footprint.yaml).
# They exist so that a typo (a rate a thousand times too big, a count with three zeros
# too many) is refused with its key, instead of exhausting memory, overflowing an integer
# code or running for hours in the middle of a run.

MAX_PEOPLE = 3_000_000  # the largest footprint; a short run of it peaks at ~400 MB (measured)
MAX_PLACES = MAX_PEOPLE  # beds, slots, packages or places in one pool: at most one per person
MAX_RUN_DAYS = 25 * 365  # a 20-year horizon after a 5-year warm-up
MAX_HOURS = 365 * 24  # waits, lags and delays: a year
MAX_MEAN_STAY = 36_500.0  # a mean stay (in days, or hours) of 100 years; keeps every time drawn finite
MAX_CV = 10.0  # lognormal spread: at 10 the median is a tenth of the mean already
MIN_RELATIVE, MAX_RELATIVE = 0.01, 100.0  # multipliers and hazard ratios (published ones: 1 to 5)
MAX_PER_1000_PY = 1_000.0  # deaths, frailty steps, placements: everyone once a year
MAX_VISITS_PER_1000_PY = 10_000.0  # A&E attendances: ten a person a year (England: 0.42)
MAX_GP_CONTACTS_PY = 100.0  # GP contacts a person a year (England's 85+: 13.5)
# Needs are drawn by thinning: the model proposes people at the rate of the person most
# at risk and keeps each in proportion to their own rate, ~50 bytes a proposal (measured). The day's
# draw proposes (that rate / 365) per person; the warm start draws
# acute.warm_start_candidate_days of ambulance arrivals at once (a quarter-year by default); the recently discharged get extra draws on top. At most 5
# proposals a person (~750 MB at 3 million people) leaves the footprint ~3 times room
# (its bounds: 170 needs, 680 readmission needs and 5.8 ambulance arrivals a year).
MAX_DRAWS_PER_PERSON = 5.0
MIN_AGE_SHARE = 0.005  # every band needs people (see PopulationConfig); England's 85+: 2.4%
# Electives are drawn, band by band, from the people not in hospital: if a weekday's list
# takes more than a tenth of a band, the draw runs short of people and slows to a crawl.
# The footprint's list takes 0.02% of its 85+ a weekday.
MAX_ELECTIVE_SHARE_OF_BAND = 0.1
MAX_CLINICIANS = 10_000  # A&E clinicians on duty in one hour, whole footprint
MAX_UNIT_COST = 1e9  # pounds per unit of activity
MAX_ANNUAL_COST = 1e12  # pounds a year (the NHS budget is ~1.5e11)
MAX_RELATIVE_CHANGE = 10.0  # one intervention at most multiplies a pool or demand by 11
MAX_INTERVENTIONS = 100  # the capacity timetable grows with interventions x ramp days
MAX_SITES = 100  # site codes are int16; each site adds pools and long-table rows
MAX_PRACTICES = 10_000  # England has about 7,000 practices in all
MAX_LOCALITIES = 1_000  # an STP has 4-8; locality codes are int16
MAX_NAME = 64  # names become folder names (scenario=NAME) and column names (sites)
MAX_LABEL = 200  # a one-line label (an intervention's name, the price base)
MAX_TEXT = 10_000  # the description
# Factors by month or weekday and hourly profiles are divided by their mean or sum: only
# ratios matter, so raw counts may be pasted in. The bound keeps the sum finite.
MAX_WEIGHT = 1e9
# Stays run past the horizon and the model looks a few days ahead: the run's last day
# must be at least this far from the end of Python's calendar (9999-12-31).
CALENDAR_MARGIN = dt.timedelta(days=10 * 366)


def _error(at: tuple[str | int, ...], message: str) -> PydanticCustomError:
    """A cross-field problem, located at `at` (relative to the model that raises it).

    The loader appends `at` to pydantic's location, so the one-line error names the key
    and its line rather than the section holding it.
    """
    return PydanticCustomError("config", message.replace("{", "(").replace("}", ")"), {"at": at})


def _every_band(value: dict[str, Any]) -> dict[str, Any]:
    missing = [b for b in AGE_BANDS if b not in value]
    if missing:
        raise ValueError(f"needs a value for every age band; missing {', '.join(missing)}")
    return value


def _every_pathway(value: dict[str, Any]) -> dict[str, Any]:
    missing = [p for p in ("P1", "P2", "P3") if p not in value]
    if missing:
        raise ValueError(f"needs a value for P1, P2 and P3; missing {', '.join(missing)}")
    return value


def _some_weight(value: list[float]) -> list[float]:
    # The profile is normalised by its sum: an all-zero one has no hour to put anyone in.
    if not any(v > 0 for v in value):
        raise ValueError("needs at least one hour with a weight above 0")
    return value


def _one_line(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must be one line of printable text (no control characters)")
    return value


def _printable(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise ValueError("must be printable text (no control characters but new lines and tabs)")
    return value


Count = Annotated[int, Field(ge=0, le=MAX_PLACES)]
Relative = Annotated[float, Field(ge=MIN_RELATIVE, le=MAX_RELATIVE)]
Hours = Annotated[float, Field(ge=0.0, le=MAX_HOURS)]
RunDay = Annotated[int, Field(ge=0, le=MAX_RUN_DAYS)]  # a day of the run, warm-up included
Change = Annotated[float, Field(ge=-1.0, le=MAX_RELATIVE_CHANGE)]
Seasonal = Annotated[float, Field(gt=0.0, le=MAX_WEIGHT)]
Months = Annotated[list[Seasonal], Field(min_length=12, max_length=12)]
HourProfile = Annotated[
    list[Annotated[float, Field(ge=0.0, le=MAX_WEIGHT)]],
    Field(min_length=24, max_length=24),
    AfterValidator(_some_weight),
]
PerFrailtyRelative = Annotated[list[Relative], Field(min_length=4, max_length=4)]
BandShares = Annotated[dict[AgeBand, Fraction], AfterValidator(_every_band)]
BandRates = Annotated[
    dict[AgeBand, Annotated[float, Field(ge=0.0, le=MAX_PER_1000_PY)]], AfterValidator(_every_band)
]
PathwayHours = Annotated[dict[Literal["P1", "P2", "P3"], Hours], AfterValidator(_every_pathway)]
# Letters, digits, '_', '.' and '-', not only dots: it must make a folder name.
Name = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME, pattern=r"^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
]
Label = Annotated[str, Field(min_length=1, max_length=MAX_LABEL), AfterValidator(_one_line)]


class Distribution(Strict):
    """A positive duration: lognormal by its mean and coefficient of variation."""

    # Below a thousandth (of an hour or a day) is a typo, and far below it a drawn stay
    # underflows to 0, which the warm start cannot weigh.
    mean: Annotated[float, Field(ge=1e-3, le=MAX_MEAN_STAY)]
    cv: Annotated[float, Field(ge=0.0, le=MAX_CV)] = 1.0


class RunConfig(Strict):
    start_date: dt.date
    horizon_days: Annotated[int, Field(ge=1, le=20 * 365)]
    warmup_days: Annotated[int, Field(ge=0, le=5 * 365)]
    # numpy takes seeds of any size; manifests are read back by tools that hold 64 bits.
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    replications: Annotated[int, Field(ge=1, le=10_000)] = 1

    @field_validator("start_date", mode="before")
    @classmethod
    def _a_calendar_date(cls, v: Any) -> Any:
        # YAML reads 2016-04-01 as a date itself; an impossible one (2016-02-30) arrives as
        # text, and a timestamp with an hour as a datetime.
        if isinstance(v, dt.datetime):
            if v.time() != dt.time(0) or v.tzinfo is not None:
                raise ValueError(f"expected a date without a time, got {v.isoformat()}")
            return v.date()
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v)
            except ValueError as exc:
                raise ValueError(f"not a date of the calendar ({exc})") from None
        return v

    @model_validator(mode="after")
    def _inside_the_calendar(self) -> RunConfig:
        days = dt.timedelta(days=self.warmup_days + self.horizon_days)
        latest = dt.date.max - CALENDAR_MARGIN - days
        if self.start_date > latest:
            raise _error(
                ("start_date",),
                f"a run of {days.days} days from {self.start_date} ends too near the end of the "
                f"calendar (9999-12-31); start by {latest} at the latest",
            )
        return self


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

    walk_in_per_1000_py: Annotated[
        dict[AgeBand, Annotated[float, Field(ge=0.0, le=MAX_VISITS_PER_1000_PY)]], AfterValidator(_every_band)
    ]
    ambulance_per_1000_py: Annotated[
        dict[AgeBand, Annotated[float, Field(ge=0.0, le=MAX_VISITS_PER_1000_PY)]], AfterValidator(_every_band)
    ]
    gp_contacts_per_person_py: Annotated[
        dict[AgeBand, Annotated[float, Field(ge=0.0, le=MAX_GP_CONTACTS_PY)]], AfterValidator(_every_band)
    ]
    frailty_multiplier: PerFrailtyRelative
    care_home_multiplier: Relative
    home_care_multiplier: Relative
    recent_discharge_multiplier: Annotated[float, Field(ge=1.0, le=MAX_RELATIVE)]  # raised risk: 1 means none
    recent_discharge_days: Annotated[float, Field(ge=0.0, le=MAX_RUN_DAYS)]
    month_factor_walk_in: Months
    month_factor_ambulance: Months
    weekday_factor: Annotated[list[Seasonal], Field(min_length=7, max_length=7)]
    hour_profile: HourProfile
    day_effect: DayEffect | None = None  # none: Poisson variation only


class PopulationConfig(Strict):
    size: Annotated[int, Field(ge=10_000, le=MAX_PEOPLE)]
    age_shares: BandShares
    male_share: Fraction
    frailty_shares: dict[str, Annotated[list[Fraction], Field(min_length=4, max_length=4)]]
    frailty_step_per_1000_py: BandRates
    frailty_step_factor_by_level: Annotated[
        list[Annotated[float, Field(ge=0.0, le=MAX_RELATIVE)]], Field(min_length=3, max_length=3)
    ]
    # Improvement by one level a year (mild->fit, moderate->mild, severe->moderate), per 1,000.
    frailty_recovery_per_1000_py: Annotated[
        list[Annotated[float, Field(ge=0.0, le=MAX_PER_1000_PY)]], Field(min_length=3, max_length=3)
    ] = [0.0, 0.0, 0.0]
    mortality_per_1000_py: BandRates
    mortality_hr_by_frailty: PerFrailtyRelative
    home_care_share: BandShares
    care_home_share: BandShares
    practices: Annotated[int, Field(ge=1, le=MAX_PRACTICES)]
    localities: Annotated[int, Field(ge=1, le=MAX_LOCALITIES)]
    demand: DemandConfig

    @field_validator("age_shares")
    @classmethod
    def _shares_sum_to_one(cls, v: dict) -> dict:
        if not math.isclose(sum(v.values()), 1.0, abs_tol=1e-3):
            raise ValueError(f"age shares must sum to 1, not {sum(v.values()):.4f}")
        # Rates are spread over each band's people at the start: an empty band would make
        # them infinite. 0.5% of the smallest footprint is 50 people (England's 85+: 2.4%).
        empty = [b for b, share in v.items() if share < MIN_AGE_SHARE]
        if empty:
            raise ValueError(
                f"every age band needs people (a share of at least {MIN_AGE_SHARE}); not {', '.join(empty)}"
            )
        return v

    @field_validator("frailty_shares")
    @classmethod
    def _frailty_rows(cls, v: dict) -> dict:
        for band, row in v.items():
            if band not in AGE_BANDS:
                raise ValueError(f"unknown age band {band!r}; expected one of {AGE_BANDS}")
            if not math.isclose(sum(row), 1.0, abs_tol=1e-3):
                raise ValueError(f"frailty shares for {band} must sum to 1")
        return _every_band(v)

    @model_validator(mode="after")
    def _one_residence_each(self) -> PopulationConfig:
        for band in AGE_BANDS:
            if self.home_care_share[band] + self.care_home_share[band] > 1.0 + 1e-9:
                raise _error(
                    ("care_home_share", band),
                    f"home_care_share + care_home_share for {band} must be <= 1 (a person lives in one place)",
                )
        return self


class PrimaryCareConfig(Strict):
    # At most every patient of a practice every weekday.
    appointments_per_1000_weekday: Annotated[float, Field(gt=0.0, le=1_000.0)]
    weekend_demand_factor: Fraction
    overflow_deferred_share: Fraction
    overflow_to_ae_share: Fraction
    referral_to_ae_share: Fraction
    direct_admission_share: Fraction
    gp_referral_hour_profile: HourProfile
    travel_to_ae_hours: Annotated[float, Field(ge=0.0, le=24.0)]

    @model_validator(mode="after")
    def _overflow(self) -> PrimaryCareConfig:
        if self.overflow_deferred_share + self.overflow_to_ae_share > 1:
            raise _error(
                ("overflow_to_ae_share",), "overflow_deferred_share + overflow_to_ae_share must be <= 1"
            )
        if self.referral_to_ae_share + self.direct_admission_share > 1:
            raise _error(
                ("direct_admission_share",), "referral_to_ae_share + direct_admission_share must be <= 1"
            )
        return self


class EmergencyConfig(Strict):
    clinicians_by_hour: Annotated[
        list[Annotated[int, Field(ge=0, le=MAX_CLINICIANS)]], Field(min_length=24, max_length=24)
    ]
    assessment_hours: Distribution
    treatment_hours: Distribution
    admit_probability: BandShares
    admit_frailty_multiplier: PerFrailtyRelative
    admit_ambulance_multiplier: Relative
    admit_month_factor: Months
    admit_probability_cap: Fraction
    transfer_to_ward_hours: Hours
    avoidance_share: BandShares
    virtual_ward_slots: Count
    virtual_ward_days: Distribution
    # Triage before the clinician (a time, not a queue); absent: none.
    triage_minutes: Distribution | None = None
    # Majors cubicles of the footprint (split by site as the rota): an ambulance patient is
    # handed over only into a free one, and holds it until leaving A&E. Absent: never full.
    majors_cubicles: Annotated[int, Field(ge=1, le=MAX_PLACES)] | None = None
    # A crew still waiting this long hands its patient over into a corridor (no cubicle).
    handover_cohort_after_minutes: Annotated[float, Field(gt=0.0, le=MAX_HOURS * 60)] | None = None


class SiteConfig(Strict):
    name: Name
    beds: Count
    catchment_share: Fraction


class WardGroup(Strict):
    """Beds ring-fenced for a group of specialties at every site, and who belongs there."""

    name: Label
    bed_share: Fraction  # of each site's general and acute beds
    emergency_share: BandShares  # of emergency admissions of each age band
    elective_share: BandShares  # of elective admissions of each age band
    # Groups its patients may be placed in when it is full, in order (at most one per group).
    outlie_to: Annotated[list[Label], Field(max_length=MAX_SITES)] = []
    outlier_reserve_share: Fraction = 0.0  # of its beds kept free from other groups' outliers


class EscalationConfig(Strict):
    """Escalation beds a site opens under pressure, and electives it cancels then."""

    beds_share: Fraction  # escalation beds per site, as a share of its ward-group beds
    open_at: Annotated[
        float, Field(gt=0.0, le=MAX_RELATIVE)
    ]  # (occupied + waiting) / beds at a review that opens them
    close_below: Annotated[
        float, Field(gt=0.0, le=MAX_RELATIVE)
    ]  # occupied / beds at a review that closes them
    review_hours: Annotated[list[Annotated[float, Field(ge=0, lt=24)]], Field(min_length=1, max_length=24)]
    for_groups: Annotated[
        list[Label], Field(max_length=MAX_SITES)
    ]  # ward groups whose patients may use escalation beds
    elective_cancel_share: Fraction  # of the day's electives at a site escalated at midnight

    @model_validator(mode="after")
    def _hysteresis(self) -> EscalationConfig:
        if self.close_below > self.open_at:
            raise ValueError("escalation close_below must not exceed open_at")
        return self


class AcuteConfig(Strict):
    sites: Annotated[list[SiteConfig], Field(min_length=1, max_length=MAX_SITES)]
    # Ward groups by specialty; none means one group of interchangeable beds per site.
    ward_groups: list[WardGroup] = []
    outlier_stay_factor: Annotated[float, Field(ge=1.0, le=MAX_RELATIVE)] = (
        1.0  # stay of a patient placed outside their group
    )
    # Hours a patient waits for a bed before another group's reserve is waived for them
    # (core rule 2b); none: never.
    reserve_waived_after_hours: Hours | None = None
    escalation: EscalationConfig | None = None
    beds_scale: Annotated[float, Field(gt=0.0, le=MAX_RELATIVE)] = 1.0
    initial_occupancy: Fraction
    warm_start_candidate_days: Annotated[float, Field(gt=0.0, le=365.0)]
    short_stay_share: BandShares
    short_stay_hours: Distribution
    los_days: Annotated[
        dict[AgeBand, Annotated[float, Field(gt=0.0, le=MAX_MEAN_STAY)]], AfterValidator(_every_band)
    ]
    los_cv: Annotated[float, Field(ge=0.0, le=MAX_CV)]
    los_frailty_multiplier: PerFrailtyRelative
    discharge_hour_profile: HourProfile
    weekend_discharge_factor: Fraction
    in_hospital_death: BandShares
    deconditioning_days: Annotated[float, Field(gt=0.0, le=MAX_MEAN_STAY)]
    deconditioning_probability: Fraction
    elective_admissions_per_weekday: Annotated[
        float, Field(ge=0.0, le=MAX_PEOPLE * MAX_ELECTIVE_SHARE_OF_BAND)
    ]
    elective_age_shares: BandShares
    elective_arrival_hour: Annotated[float, Field(ge=0, lt=24)]
    elective_arrival_spread_hours: Annotated[float, Field(ge=0, le=24)]
    elective_max_wait_hours: Hours
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

    @field_validator("elective_age_shares")
    @classmethod
    def _elective_shares_sum_to_one(cls, v: dict) -> dict:
        if not math.isclose(sum(v.values()), 1.0, abs_tol=1e-3):
            raise ValueError(f"elective age shares must sum to 1, not {sum(v.values()):.4f}")
        return v


class ServiceKind(Strict):
    """One kind of an onward service as the DTOC collection sees a wait for it: who
    completes the assessment for it, and what the wait for a place is recorded as and
    charged to (the organisation that provides or funds the place)."""

    name: str
    share: Fraction
    assessment: DtocResponsibility
    reason: DtocReason
    responsible: DtocResponsibility


class PathwaysConfig(Strict):
    """Shares by age band of P1/P2/P3 among discharges from home (the rest are P0)."""

    p1_share: BandShares
    p2_share: BandShares
    p3_share: BandShares
    frailty_odds_multiplier: PerFrailtyRelative
    home_care_p1_share: Fraction
    assessment_hours: PathwayHours
    transfer_lag_hours: PathwayHours
    p1_new_support_share: Fraction
    p1_restart_hours: Hours
    elective_p1_share: Fraction
    delay_reasons: dict[Literal["home", "reablement", "community_beds", "care_home"], list[ServiceKind]]

    @field_validator("delay_reasons")
    @classmethod
    def _every_service(cls, v: dict) -> dict:
        missing = [k for k in ("home", "reablement", "community_beds", "care_home") if k not in v]
        if missing:
            raise ValueError(
                f"needs the kinds of home, reablement, community_beds and care_home; missing {', '.join(missing)}"
            )
        for service, kinds in v.items():
            total = sum(k.share for k in kinds)
            if not kinds or abs(total - 1.0) > 1e-6:
                raise ValueError(f"the shares of {service}'s kinds must sum to 1, not {total:g}")
        return v

    @model_validator(mode="after")
    def _odds_defined(self) -> PathwaysConfig:
        # A frailty odds multiplier m turns a band's shares into shares x m / (1 - total +
        # total x m), which needs a positive denominator. Shares summing past 1 are taken
        # in turn (P1, P2, then P3 gets what is left), as the shipped 85+ row relies on.
        low = min(self.frailty_odds_multiplier)
        for band in AGE_BANDS:
            total = self.p1_share[band] + self.p2_share[band] + self.p3_share[band]
            if 1.0 - total + total * low <= 1e-9:
                raise _error(
                    ("p3_share", band),
                    f"p1_share + p2_share + p3_share for {band} is {total:.4f}: with frailty_odds_multiplier "
                    f"down to {low} the pathway odds are undefined (need sum x (1 - multiplier) < 1)",
                )
        return self


class CommunityConfig(Strict):
    community_beds: Count
    community_bed_days: Distribution
    community_onward_home_care: Fraction
    community_onward_care_home: Fraction
    reablement_slots: Count
    reablement_days: Distribution
    reablement_to_home_care: Fraction
    initial_occupancy: Fraction
    # Referrals from home ("step-up"), of people 65+; they wait behind hospital discharges.
    community_bed_step_up_per_1000_65_py: Annotated[float, Field(ge=0.0, le=MAX_PER_1000_PY)] = 0.0
    reablement_step_up_per_1000_65_py: Annotated[float, Field(ge=0.0, le=MAX_PER_1000_PY)] = 0.0
    # A referral from home not met within this many days is withdrawn (met another way).
    step_up_max_wait_days: Annotated[float, Field(gt=0.0, le=MAX_HOURS / 24)] = 28.0
    step_up_hours: Annotated[
        list[Annotated[float, Field(ge=0, le=24)]], Field(min_length=2, max_length=2)
    ] = [
        9.0,
        17.0,
    ]

    @model_validator(mode="after")
    def _onward(self) -> CommunityConfig:
        if self.community_onward_home_care + self.community_onward_care_home > 1.0 + 1e-9:
            raise _error(
                ("community_onward_care_home",),
                "community_onward_home_care + community_onward_care_home must be <= 1",
            )
        return self


class SocialCareConfig(Strict):
    home_care_packages: Count
    home_care_days: Distribution
    home_care_ends_in_death: Fraction
    home_care_community_starts_per_1000_65_py: Annotated[float, Field(ge=0.0, le=MAX_PER_1000_PY)]
    care_home_places: Count
    care_home_days: Distribution
    care_home_community_entries_per_1000_65_py: Annotated[float, Field(ge=0.0, le=MAX_PER_1000_PY)]
    community_entry_min_age_band: AgeBand
    community_entry_hours: Annotated[
        list[Annotated[float, Field(ge=0, le=24)]], Field(min_length=2, max_length=2)
    ]

    @field_validator("community_entry_hours")
    @classmethod
    def _office_hours(cls, v: list[float]) -> list[float]:
        if v[1] < v[0]:
            raise ValueError("community_entry_hours must be [first hour, last hour] with first <= last")
        return v


Pounds = Annotated[float, Field(ge=0.0, le=MAX_UNIT_COST)]


class SpellCost(Strict):
    """A provider's variable cost of one unit of activity (the capacity behind it is costed
    with its places)."""

    provider: Organisation
    unit_cost: Pounds


class AeCost(SpellCost):
    """A&E: a variable cost per attendance, and the department's fixed cost per clinician
    hour on the rota (emergency.clinicians_by_hour), with the nurses and building behind it."""

    fixed_per_clinician_hour: Pounds


class AmbulanceCost(SpellCost):
    """Ambulance conveyance: a variable cost per conveyance, and the service's fixed cost
    (fleet, crews on shift), which scales with the people it covers."""

    fixed_per_1000_people_a_day: Pounds


class GpCost(SpellCost):
    """General practice: a variable cost per consultation, and a fixed cost per appointment
    offered on a weekday (primary_care.appointments_per_1000_weekday), used or not."""

    fixed_per_appointment: Pounds


class PlaceCost(SpellCost):
    """A service's places: a fixed cost for each place open a day (staff rostered, the
    building), saved only from the day a place closes, and `unit_cost`, the variable cost
    of a place in use a day (drugs, food, consumables, care-worker hours)."""

    fixed_per_place_day: Pounds


class CostsConfig(Strict):
    """What each provider spends to deliver the activity, in pounds at the price base:
    fixed for the capacity it keeps open, variable for the activity (flowsim.costs)."""

    price_base: Label
    ae_attendance: AeCost
    ambulance_conveyance: AmbulanceCost
    non_elective_episode: SpellCost  # beyond its bed-days: diagnostics, theatres, drugs
    elective_episode: SpellCost
    gp_consultation: GpCost
    acute_bed_day: PlaceCost  # ward-group beds
    escalation_bed_day: PlaceCost | None = None  # escalation beds, while a site has them open
    community_bed_day: PlaceCost
    reablement_day: PlaceCost
    home_care_day: PlaceCost
    care_home_day: PlaceCost
    virtual_ward_day: PlaceCost


class Contract(Strict):
    """How one provider is paid: by which commissioner, under which rule.

    tariff: a national price per unit of activity (payments.tariff); block: a fixed sum a
    day whatever the activity, `per_person_a_year` of the footprint's people; purchase:
    the council's price per place-day in use (payments.purchase).
    """

    payer: Commissioner
    rule: PaymentRule
    per_person_a_year: Pounds | None = None

    @model_validator(mode="after")
    def _block_has_a_sum(self) -> Contract:
        if self.rule == "block" and self.per_person_a_year is None:
            raise _error(("per_person_a_year",), "a block contract needs per_person_a_year (pounds)")
        if self.rule != "block" and self.per_person_a_year is not None:
            raise _error(("per_person_a_year",), f"only a block contract has one, not {self.rule}")
        return self


# The cost item whose provider each price pays (flowsim.payments counts its activity).
TARIFF_PAYS_FOR = {
    "ae_attendance": "ae_attendance",
    "ambulance_conveyance": "ambulance_conveyance",
    "non_elective_spell": "non_elective_episode",
    "elective_spell": "elective_episode",
    "excess_bed_day": "acute_bed_day",
}
PURCHASE_PAYS_FOR = {
    "home_care_day": "home_care_day",
    "care_home_day": "care_home_day",
    "reablement_day": "reablement_day",
}


class TariffPrices(Strict):
    """National tariff prices paid per unit of activity (payment by results)."""

    ae_attendance: Pounds
    ambulance_conveyance: Pounds
    non_elective_spell: Pounds
    elective_spell: Pounds
    excess_bed_day: Pounds  # a clinical day beyond excess_trim_days; delayed days are unpaid
    excess_trim_days: Annotated[float, Field(ge=0.0, le=MAX_MEAN_STAY)]  # the trim point of a spell


class PurchasePrices(Strict):
    """The council's prices per place-day in use of the care it buys."""

    home_care_day: Pounds
    care_home_day: Pounds
    reablement_day: Pounds | None = None  # only if reablement is bought, not provided in-house


class PaymentsConfig(Strict):
    """Who pays whom (flowsim.payments). `contracts`: each provider is paid under its
    contract; `pooled`: "one system, one budget", the commissioners pool their budgets and
    the pool pays every provider its cost. The rule moves money; it never changes the cost."""

    budget: Literal["contracts", "pooled"]
    # The commissioners' budgets for the services modelled: income from outside the footprint.
    allocation_per_person_a_year: dict[Commissioner, Pounds]
    contracts: dict[Organisation, Contract]
    tariff: TariffPrices
    purchase: PurchasePrices

    @field_validator("allocation_per_person_a_year")
    @classmethod
    def _every_commissioner(cls, v: dict[str, float]) -> dict[str, float]:
        missing = [c for c in COMMISSIONERS if c not in v]
        if missing:
            raise ValueError(f"needs a value for every commissioner; missing {', '.join(missing)}")
        return v

    @field_validator("contracts")
    @classmethod
    def _no_commissioner_contracts(cls, v: dict[str, Contract]) -> dict[str, Contract]:
        for org in v:
            if org in COMMISSIONERS:
                raise ValueError(f"{org} is a commissioner: what it provides it pays for itself, no contract")
        return v


# --------------------------------------------------------------------------------------
# Plans: uncertain effect sizes, and the interventions of a five-year plan that act on
# the shape of the system (site consolidation, demographic change, the social-care
# budget). One block, so that it merges apart from the levers added after DemandChange.


class Draw(Strict):
    """A value a plan is unsure of: each replication draws its own (see flowsim/uncertainty.py).

    Every distribution is bounded by `low` and `high`, which must themselves be valid values
    of the field: uniform on [low, high]; triangular with its `mode`; normal with its `mean`
    and `sd`, truncated to [low, high]. A whole-number field (a day) rounds the value drawn.
    """

    distribution: Literal["uniform", "triangular", "normal"]
    low: int | float
    high: int | float
    mode: int | float | None = None
    mean: int | float | None = None
    sd: Annotated[float, Field(gt=0.0)] | None = None
    _integer: bool = PrivateAttr(False)  # set by the field it fills: round what is drawn

    @model_validator(mode="after")
    def _parameters(self) -> Draw:
        if not self.low < self.high:
            raise _error(
                ("high",), f"must be above low ({self.low}); for a fixed value give the number itself"
            )
        wanted = {"uniform": set(), "triangular": {"mode"}, "normal": {"mean", "sd"}}[self.distribution]
        for key in ("mode", "mean", "sd"):
            given = getattr(self, key) is not None
            if given and key not in wanted:
                raise _error((key,), f"is not a parameter of a {self.distribution} distribution")
            if not given and key in wanted:
                raise _error(
                    (key,), f"a {self.distribution} distribution needs {' and '.join(sorted(wanted))}"
                )
        for key in ("mode", "mean"):
            value = getattr(self, key)
            if value is not None and not self.low <= value <= self.high:
                raise _error((key,), f"{value} is outside [low, high] = [{self.low}, {self.high}]")
        return self


def _number_or_draw(value: Any, handler: Any) -> Any:
    """A plain value as the field's own type; a distribution whose bounds are such values."""
    if not isinstance(value, dict | Draw):
        return handler(value)
    draw = Draw.model_validate(value)
    bounds = []
    for key in ("low", "high"):
        try:
            bounds.append(handler(getattr(draw, key)))
        except ValidationError as exc:
            raise ValueError(
                f"{key} ({getattr(draw, key)}) is not a valid value here: {exc.errors()[0]['msg']}"
            ) from None
    draw._integer = isinstance(bounds[0], int)
    return draw


def _dump_draw(value: Any) -> Any:
    return value.model_dump() if isinstance(value, Draw) else value


_T = TypeVar("_T")
# `Uncertain[Change]`: a Change, or a Draw of Changes. To let a field of any intervention
# take a distribution, wrap its type in Uncertain[...] and read it, in a validator that
# runs before the replication's draw, through `highest()`/`lowest()` (every reader of the
# field in this module, e.g. _largest_capacities, must do so); the model itself only ever
# sees the value drawn (uncertainty.resolve). The service levers (Lever) are not wrapped yet.
Uncertain = Annotated[_T, WrapValidator(_number_or_draw), PlainSerializer(_dump_draw)]


def highest(value: Any) -> Any:
    """The largest value an uncertain field can take (the value itself if it is certain)."""
    return value.high if isinstance(value, Draw) else value


def lowest(value: Any) -> Any:
    """The smallest value an uncertain field can take (the value itself if it is certain)."""
    return value.low if isinstance(value, Draw) else value


MAX_TRAVEL_MINUTES = 600.0  # ten hours more to A&E: beyond any journey inside England
MAX_GROWTH = 0.2  # a band growing or shrinking by a fifth a year (England's 85+: +3-4%)


class Consolidation(Strict):
    """Close an acute site: its beds, A&E staff and practices move to the receiving sites.

    From `start_day` the closing site admits nobody new (its patients finish their stays);
    its beds reopen in the receiving sites' ward groups, so each receiving site runs one
    bigger pool, and its practices join their catchments. For `transition_days` a share of
    the receiving sites' beds is unavailable (wards being rebuilt, staff moving). Ambulance
    journeys of the closing site's practices take `extra_travel_minutes` longer.
    """

    kind: Literal["consolidation"] = "consolidation"
    name: Label
    closing_site: Name
    # Share of the closing site's beds, A&E staff and practices each receiving site takes.
    receiving_sites: Annotated[
        dict[Name, Annotated[float, Field(gt=0.0, le=1.0)]], Field(min_length=1, max_length=MAX_SITES)
    ]
    beds_kept_share: Uncertain[Fraction] = 1.0  # of the closing site's beds reopened (1: same total)
    start_day: Uncertain[RunDay]
    transition_days: Uncertain[RunDay] = 0
    transition_beds_unavailable_share: Uncertain[Fraction] = 0.0  # of the receiving sites' beds
    extra_travel_minutes: Uncertain[Annotated[float, Field(ge=0.0, le=MAX_TRAVEL_MINUTES)]] = 0.0
    # Fixed cost of the closed site saved a year, from the end of the transition.
    annual_saving: Uncertain[Annotated[float, Field(ge=0.0, le=MAX_ANNUAL_COST)]] = 0.0
    payer: Organisation = "acute_trust"

    @model_validator(mode="after")
    def _receivers(self) -> Consolidation:
        if self.closing_site in self.receiving_sites:
            raise _error(
                ("receiving_sites",), f"the closing site {self.closing_site!r} cannot receive its own beds"
            )
        total = sum(self.receiving_sites.values())
        if not math.isclose(total, 1.0, abs_tol=1e-3):
            raise _error(("receiving_sites",), f"shares must sum to 1, not {total:.4f}")
        # In name order, as the manifest's canonical JSON holds them: the order hands out
        # practices and breaks ties between beds, so a reproduced run must see the same one.
        object.__setattr__(self, "receiving_sites", dict(sorted(self.receiving_sites.items())))
        return self


class Demography(Strict):
    """Population growth and ageing: each age band grows by its yearly rate from start_day.

    Newcomers (births and net migration) join the youngest band; each older band gets its
    growth by more people ageing into it from the band below, so an ageing projection moves
    people up the bands (see Population.grow).
    """

    kind: Literal["demography"] = "demography"
    name: Label
    growth_per_year: Annotated[
        dict[AgeBand, Uncertain[Annotated[float, Field(ge=-MAX_GROWTH, le=MAX_GROWTH)]]],
        AfterValidator(_every_band),
    ]
    start_day: Uncertain[RunDay] = 0


class SocialCareBudget(Strict):
    """Change the local authority's budget for home care and care homes: places follow money.

    The budget is what the pools' places cost at the council's prices (payments.purchase: home_care_day,
    care_home_day) over a year; a change of it, or of a price, changes each pool's capacity
    by (its budget + its part of the change) / (its price x (1 + price change)), ramped in.
    """

    kind: Literal["social_care_budget"] = "social_care_budget"
    name: Label
    relative_change: Uncertain[Change]  # of the home-care and care-home budget together
    # Share of the pounds changed that falls on home care; none: in proportion to spend.
    home_care_share_of_change: Fraction | None = None
    home_care_price_change: Uncertain[Change] = 0.0
    care_home_price_change: Uncertain[Change] = 0.0
    start_day: Uncertain[RunDay]
    ramp_days: Uncertain[RunDay] = 0


PoolName = Literal["acute", "community_beds", "reablement", "home_care", "care_home", "virtual_ward"]


class CapacityChange(Strict):
    """Change a pool's capacity by a relative amount, ramped linearly from start_day."""

    kind: Literal["capacity"] = "capacity"
    name: Label
    pool: PoolName
    site: Name | None = None
    relative_change: Uncertain[Change]
    start_day: Uncertain[RunDay]
    ramp_days: Uncertain[RunDay] = 0

    @model_validator(mode="after")
    def _site_is_acute(self) -> CapacityChange:
        if self.site is not None and self.pool != "acute":
            raise _error(("site",), f"a site applies to pool acute only, not {self.pool}")
        return self


class RunningCost(Strict):
    """A fixed yearly cost of a new service (double running while the old one still runs):
    the provider's cost, paid to it by the payer (the provider is the payer if not given)."""

    kind: Literal["running_cost"] = "running_cost"
    name: Label
    payer: Organisation
    provider: Organisation | None = None
    annual_cost: Uncertain[Annotated[float, Field(ge=0.0, le=MAX_ANNUAL_COST)]]
    start_day: Uncertain[RunDay]
    end_day: RunDay | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> RunningCost:
        if self.end_day is not None and self.end_day <= highest(self.start_day):
            raise _error(("end_day",), f"must be after start_day ({highest(self.start_day)})")
        return self


class DemandChange(Strict):
    """Scale emergency demand (walk-in and ambulance) of a group, ramped from start_day."""

    kind: Literal["demand"] = "demand"
    name: Label
    relative_change: Uncertain[Change]
    residence: ResidenceName | None = None
    min_age_band: AgeBand = "0-15"
    start_day: Uncertain[RunDay]
    ramp_days: Uncertain[RunDay] = 0


# --- Service levers: interventions that change a mechanism on a timeline ----------------
# Each has a start day, a linear ramp, an optional end, and its own running cost borne by
# one organisation from its start day (see costs.py). Effect sizes are plain numbers.


class Lever(Strict):
    """What every service lever shares: a timeline and a running cost."""

    name: Label
    start_day: RunDay
    ramp_days: RunDay = 0  # days from nothing to the full effect, linearly
    end_day: RunDay | None = None  # the effect and the cost stop on this day; none: never
    annual_cost: Annotated[float, Field(ge=0.0, le=MAX_ANNUAL_COST)]  # pounds a year, from start_day
    payer: Organisation

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Lever:
        if self.end_day is not None and self.end_day <= self.start_day:
            raise _error(("end_day",), f"must be after start_day ({self.start_day})")
        return self

    @property
    def effect_from_day(self) -> int:
        """The first day with any effect (a lever with a lag starts later than it costs)."""
        return self.start_day

    def effect(self, day: Any) -> Any:
        """The share of the full effect on a day of the run (0 to 1; a number or an array)."""
        first = self.effect_from_day
        ramp = (day - first + 1) / max(self.ramp_days, 1)
        share = ramp.clip(0.0, 1.0) if hasattr(ramp, "clip") else min(max(ramp, 0.0), 1.0)
        if self.end_day is not None:
            share = share * (day < self.end_day)
        return share


class ProactiveCare(Lever):
    """Proactive care of a cohort (MCP / PACS vanguards): case management lowers its
    members' hazards of walking into A&E and of calling an ambulance, and general practice
    gets more appointments. The effect may lag the spending."""

    kind: Literal["proactive_care"] = "proactive_care"
    # The cohort: people at least `min_frailty` frail, or the cohorts (age band x frailty x
    # residence) most at risk of an emergency, taken from the top until they hold
    # `top_risk_share` of the population at the start; either way of at least
    # `min_age_band` and, if given, living as `residence`.
    min_frailty: FrailtyLevel | None = None
    top_risk_share: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    min_age_band: AgeBand = "0-15"
    residence: ResidenceName | None = None
    walk_in_change: Change  # relative change of the cohort's walk-in hazard
    ambulance_change: Change  # relative change of the cohort's ambulance hazard
    gp_capacity_change: Change  # relative change of every practice's appointments
    lag_days: RunDay = 0  # days from start_day (and its cost) to the first effect

    @property
    def effect_from_day(self) -> int:
        return self.start_day + self.lag_days

    @model_validator(mode="after")
    def _one_cohort(self) -> ProactiveCare:
        if (self.min_frailty is None) == (self.top_risk_share is None):
            raise _error(
                ("min_frailty",), "give the cohort by min_frailty or by top_risk_share (one of them)"
            )
        return self


class CareHomeSupport(Lever):
    """Enhanced health in care homes: care-home residents attend A&E less often, and
    fewer of those who attend or see their GP are admitted."""

    kind: Literal["care_home_support"] = "care_home_support"
    attendance_change: Change  # relative change of residents' walk-in and ambulance hazards
    admission_change: Change  # relative change of residents' chance of admission (A&E and GP)


class AdmissionAvoidance(Lever):
    """Rapid response and virtual wards: slots added to the virtual-ward pool, and a share
    of would-be emergency admissions eligible for one. An eligible patient goes to a free
    slot; when every slot is taken, they are admitted."""

    kind: Literal["admission_avoidance"] = "admission_avoidance"
    extra_slots: Count  # virtual-ward / rapid-response slots added, ramped in
    eligible_share: Fraction  # of would-be emergency admissions a slot could take
    min_age_band: AgeBand = "0-15"  # eligible from this age band
    from_ae: bool = True  # admissions decided in A&E
    from_gp: bool = True  # direct admissions requested by a GP


D2aGoals = Annotated[dict[Literal["P1", "P2", "P3"], Fraction], AfterValidator(_every_pathway)]


class DischargeToAssess(Lever):
    """Discharge to assess: part of the assessment a patient waits for in an acute bed
    after they are medically fit moves into the pathway service (the acute wait shrinks,
    the stay in the service grows by as much), and pathway shares move toward the D2A goals."""

    kind: Literal["discharge_to_assess"] = "discharge_to_assess"
    assessment_moved_share: Fraction  # of pathways.assessment_hours (P1, P2, P3)
    pathway_shift: Fraction  # how far each band's P1-P3 shares move toward goal_shares
    goal_shares: D2aGoals  # of all discharges: P1, P2, P3 (P0 is the rest)
    min_age_band: AgeBand = "0-15"  # the shift applies from this age band

    @field_validator("goal_shares")
    @classmethod
    def _at_most_everyone(cls, v: dict) -> dict:
        if sum(v.values()) > 1.0 + 1e-9:
            raise ValueError(f"P1 + P2 + P3 must be <= 1, not {sum(v.values()):.4f}")
        return v


class SevenDayDischarge(Lever):
    """Seven-day discharging and faster discharge processes: more weekend discharges, an
    earlier discharge hour, and shorter waits for assessment and transfer once fit."""

    kind: Literal["seven_day_discharge"] = "seven_day_discharge"
    weekend_discharge_factor: Fraction | None = None  # replaces acute.weekend_discharge_factor
    discharge_hour_profile: HourProfile | None = None  # replaces acute.discharge_hour_profile
    assessment_hours_change: Change = 0.0  # relative change of pathways.assessment_hours
    transfer_lag_change: Change = 0.0  # relative change of pathways.transfer_lag_hours

    @model_validator(mode="after")
    def _changes_something(self) -> SevenDayDischarge:
        if (
            self.weekend_discharge_factor is None
            and self.discharge_hour_profile is None
            and self.assessment_hours_change == 0.0
            and self.transfer_lag_change == 0.0
        ):
            raise _error(
                ("weekend_discharge_factor",),
                "changes nothing: set weekend_discharge_factor, discharge_hour_profile, "
                "assessment_hours_change or transfer_lag_change",
            )
        return self


Intervention = Annotated[
    CapacityChange
    | RunningCost
    | DemandChange
    | Consolidation
    | Demography
    | SocialCareBudget
    | ProactiveCare
    | CareHomeSupport
    | AdmissionAvoidance
    | DischargeToAssess
    | SevenDayDischarge,
    Field(discriminator="kind"),
]


class OutbreaksConfig(Strict):
    """Outbreaks of diarrhoea and vomiting (norovirus) that close bays of medical beds."""

    per_100_beds_per_year_base: Annotated[
        float, Field(ge=0.0, le=365.0)
    ]  # closures a year per 100 medical beds, outside the wave
    per_100_beds_per_year_at_peak: Annotated[
        float, Field(ge=0.0, le=365.0)
    ]  # extra, at the wave's peak (a yearly rate)
    beds_per_closure: Annotated[float, Field(ge=1.0, le=MAX_PLACES)]  # beds in a closed bay or ward
    closure_days_mean: Annotated[float, Field(gt=0.0, le=60.0)]  # until the bay reopens (exponential)
    max_closed_share: Fraction  # of a site's medical beds closed at once, at most


class WinterConfig(Strict):
    """A yearly wave of respiratory illness among older people (see flowsim/winter.py)."""

    peak_month: Annotated[int, Field(ge=1, le=12)]
    peak_day: Annotated[int, Field(ge=1, le=28)]
    spread_days: Annotated[float, Field(gt=0.0, le=120.0)]  # standard deviation of the bell curve
    min_age_band: AgeBand  # the youngest band the wave reaches
    ambulance_rise: Annotated[float, Field(ge=0.0, le=MAX_RELATIVE)]  # at the peak, on a day with no wave
    admission_rise: Annotated[
        float, Field(ge=0.0, le=MAX_RELATIVE)
    ]  # of the chance an attendance is admitted
    stay_rise: Annotated[float, Field(ge=0.0, le=MAX_RELATIVE)]  # of emergency stays begun at the peak
    outbreaks: OutbreaksConfig | None = None


class OutputsConfig(Strict):
    episodes: bool = False


class FlowsimConfig(Strict):
    schema_version: Literal[1]
    name: Name
    description: Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_printable)] = ""
    run: RunConfig
    population: PopulationConfig
    primary_care: PrimaryCareConfig
    emergency: EmergencyConfig
    acute: AcuteConfig
    pathways: PathwaysConfig
    community: CommunityConfig
    social_care: SocialCareConfig
    costs: CostsConfig
    winter: WinterConfig | None = None
    payments: PaymentsConfig
    interventions: Annotated[list[Intervention], Field(max_length=MAX_INTERVENTIONS)] = []
    outputs: OutputsConfig = OutputsConfig()

    @field_validator("schema_version", mode="before")
    @classmethod
    def _not_a_boolean(cls, v: Any) -> Any:
        if isinstance(v, bool):  # True == 1 in Python, so Literal[1] alone would take it
            raise ValueError(f"expected 1, got {v}")
        return v

    @model_validator(mode="after")
    def _fits_the_model(self) -> FlowsimConfig:
        """Rules across sections: contracts, intervention sites, electives, capacities, demand draws."""
        self._contracts_fit()
        sites = [s.name for s in self.acute.sites]
        for i, change in enumerate(self.interventions):
            if isinstance(change, CapacityChange) and change.site is not None and change.site not in sites:
                raise _error(
                    ("interventions", i, "site"),
                    f"unknown site {change.site!r}; the sites are {', '.join(sites)}",
                )
        self._plans_fit(sites)
        electives = self.acute.elective_admissions_per_weekday
        for band in AGE_BANDS:
            wanted = electives * self.acute.elective_age_shares[band]
            people = self.population.size * self.population.age_shares[band]
            if wanted > MAX_ELECTIVE_SHARE_OF_BAND * people:
                raise _error(
                    ("acute", "elective_admissions_per_weekday"),
                    f"{electives:,.0f} a weekday would take {wanted:,.0f} of the {people:,.0f} people "
                    f"aged {band} every weekday; at most a tenth of a band",
                )
        # Checked first without the interventions, so that an error names the key to change.
        for at, changes in ((("acute", "beds_scale"), False), (("interventions",), True)):
            # Changes to one pool compound (see Pools.capacity_schedule).
            for pool, places in self._largest_capacities(changes).items():
                if places > MAX_PLACES:
                    raise _error(
                        at,
                        f"{pool} would have {places:,.0f} places"
                        f"{' after the capacity changes' if changes else ' (beds x beds_scale)'}; "
                        f"at most {MAX_PLACES:,} (one for each person of the largest footprint)",
                    )
        for at, changes in ((("population", "demand"), False), (("interventions",), True)):
            for rate, limit, what in self._demand_draws(changes):
                if rate > limit:
                    raise _error(
                        at,
                        f"{'with the demand changes, ' if changes else ''}the person most at risk "
                        f"could have {rate:,.0f} {what}; at most {limit:,.0f}, as the model draws them "
                        "(band rates x the spread of frailty and residence multipliers x month and "
                        f"weekday peaks{' x demand changes' if changes else ''})",
                    )
        return self

    def _plans_fit(self, sites: list[str]) -> None:
        """Consolidations name sites that exist and close each once; one demography; growth fits."""
        closed: set[str] = set()
        receiving: set[str] = set()
        for i, change in enumerate(self.interventions):
            if isinstance(change, Consolidation):
                for at, name in (
                    ("closing_site", change.closing_site),
                    *(("receiving_sites", r) for r in change.receiving_sites),
                ):
                    if name not in sites:
                        raise _error(
                            ("interventions", i, at),
                            f"unknown site {name!r}; the sites are {', '.join(sites)}",
                        )
                if change.closing_site in closed | receiving:
                    raise _error(
                        ("interventions", i, "closing_site"),
                        f"site {change.closing_site!r} already closes or receives another site's beds in an earlier consolidation",
                    )
                if closed & set(change.receiving_sites):
                    raise _error(
                        ("interventions", i, "receiving_sites"),
                        f"a closed site cannot receive beds ({', '.join(sorted(closed & set(change.receiving_sites)))})",
                    )
                closed.add(change.closing_site)
                receiving |= set(change.receiving_sites)
            if isinstance(change, SocialCareBudget):
                from flowsim.budget import care_capacity_factors  # noqa: PLC0415 (a cycle)

                for pool, factor in care_capacity_factors(self, change, lowest).items():
                    if factor < 0:
                        raise _error(
                            ("interventions", i, "home_care_share_of_change"),
                            f"the cut would take more than the whole {pool} budget",
                        )
        demography = [i for i, c in enumerate(self.interventions) if isinstance(c, Demography)]
        if len(demography) > 1:
            raise _error(
                ("interventions", demography[1]),
                "one demography intervention at most (it sets every band's growth)",
            )
        for i in demography:
            change = self.interventions[i]
            assert isinstance(change, Demography)
            fastest = max(highest(g) for g in change.growth_per_year.values())
            years = (self.total_days - lowest(change.start_day)) / 365.0
            people = self.population.size * (1.0 + max(fastest, 0.0)) ** max(years, 0.0)
            if people > MAX_PEOPLE:
                raise _error(
                    ("interventions", i, "growth_per_year"),
                    f"the population could grow to {people:,.0f} by the end of the run; at most {MAX_PEOPLE:,}",
                )

    def _contracts_fit(self) -> None:
        """Every provider is paid under a contract it can be paid by (flowsim.payments)."""
        c, contracts = self.costs, self.payments.contracts
        items = {name: getattr(c, name) for name in type(c).model_fields if name != "price_base"}
        providers = {item.provider for item in items.values() if item is not None}
        unpaid = sorted(providers - set(COMMISSIONERS) - set(contracts))
        for org in unpaid[:1]:
            raise _error(
                ("payments", "contracts"),
                f"no contract for {org}, which provides "
                + ", ".join(n for n, i in items.items() if i is not None and i.provider == org),
            )
        priced = {
            rule: {name: items[cost].provider for name, cost in pays_for.items()}
            for rule, pays_for in (("tariff", TARIFF_PAYS_FOR), ("purchase", PURCHASE_PAYS_FOR))
        }
        for org, contract in contracts.items():
            if contract.rule == "block":
                continue
            mine = [name for name, provider in priced[contract.rule].items() if provider == org]
            if not mine:
                raise _error(
                    ("payments", "contracts", org, "rule"),
                    f"{org} provides nothing that payments.{contract.rule} prices",
                )
            if "reablement_day" in mine and self.payments.purchase.reablement_day is None:
                raise _error(
                    ("payments", "purchase"),
                    f"{org} provides reablement under purchase: needs reablement_day (pounds)",
                )

    def _largest_capacities(self, changes: bool) -> dict[str, float]:
        """Each pool's capacity, with every rise of the interventions if `changes` (no cut)."""
        largest = {f"acute site {s.name}": s.beds * self.acute.beds_scale for s in self.acute.sites}
        largest |= {
            "community_beds": self.community.community_beds,
            "reablement": self.community.reablement_slots,
            "home_care": self.social_care.home_care_packages,
            "care_home": self.social_care.care_home_places,
            "virtual_ward": self.emergency.virtual_ward_slots,
        }
        for change in self.interventions if changes else []:
            if isinstance(change, AdmissionAvoidance):
                largest["virtual_ward"] += change.extra_slots
                continue
            if isinstance(change, Consolidation):
                closing = next(s for s in self.acute.sites if s.name == change.closing_site)
                moved = closing.beds * self.acute.beds_scale * highest(change.beds_kept_share)
                for name, share in change.receiving_sites.items():
                    largest[f"acute site {name}"] += moved * share
                continue
            if isinstance(change, SocialCareBudget):
                from flowsim.budget import care_capacity_factors  # noqa: PLC0415 (a cycle)

                for pool, factor in care_capacity_factors(self, change, highest).items():
                    largest[pool] *= max(factor, 1.0)
                continue
            if not isinstance(change, CapacityChange) or highest(change.relative_change) <= 0:
                continue
            targets: list[str]
            if change.pool != "acute":
                targets = [change.pool]
            else:
                names = [change.site] if change.site is not None else [s.name for s in self.acute.sites]
                targets = [f"acute site {name}" for name in names]
            for pool in targets:
                largest[pool] *= 1.0 + highest(change.relative_change)
        return largest

    def _demand_draws(self, changes: bool) -> list[tuple[float, float, str]]:
        """(rate a year, its limit, what) of the draws of needs, for the person most at risk.

        An upper bound: a band's rate is spread over its people by their multipliers, so
        nobody gets more than the band's rate x the largest multiplier / the smallest.
        """
        d = self.population.demand
        residence = (1.0, d.home_care_multiplier, d.care_home_multiplier)
        spread = (max(d.frailty_multiplier) * max(residence)) / (min(d.frailty_multiplier) * min(residence))

        def peak(factors: list[float]) -> float:
            return max(factors) / (sum(factors) / len(factors))

        emergency = max(peak(d.month_factor_walk_in), peak(d.month_factor_ambulance)) * peak(d.weekday_factor)
        if self.winter is not None:  # the wave's multiplier is at most 1 + its rise
            emergency *= 1.0 + self.winter.ambulance_rise
        for change in self.interventions if changes else []:
            if isinstance(change, DemandChange) and highest(change.relative_change) > 0:
                emergency *= 1.0 + highest(change.relative_change)
            rises = []
            if isinstance(change, ProactiveCare):
                rises = [change.walk_in_change, change.ambulance_change]
            elif isinstance(change, CareHomeSupport):
                rises = [change.attendance_change]
            emergency *= 1.0 + max([0.0, *rises])
        w = self.primary_care.weekend_demand_factor
        gp = 7.0 / (5.0 + 2.0 * w)  # a weekday's share of the week's GP need (see demand.py)
        needs = spread * max(
            (d.walk_in_per_1000_py[b] + d.ambulance_per_1000_py[b]) / 1000.0 * emergency
            + d.gp_contacts_per_person_py[b] * gp
            for b in AGE_BANDS
        )
        ambulance = spread * max(d.ambulance_per_1000_py[b] / 1000.0 for b in AGE_BANDS)
        most = MAX_DRAWS_PER_PERSON
        return [
            (needs, most * 365.0, "urgent needs a year"),
            (
                needs * (d.recent_discharge_multiplier - 1.0),
                most * 365.0,
                "extra needs a year just after a discharge (x recent_discharge_multiplier - 1)",
            ),
            (
                ambulance,
                most * 365.0 / self.acute.warm_start_candidate_days,
                "ambulance arrivals a year (the warm start draws acute.warm_start_candidate_days of them at once)",
            ),
        ]

    @property
    def total_days(self) -> int:
        return self.run.warmup_days + self.run.horizon_days
