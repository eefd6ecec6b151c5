"""Every measure flowsim reports, defined once: its name, label, unit, scale and better direction.

The registry is read by the CLI's KPI summary, by the Arrow field metadata of every
results table (`flowsim.metrics.tables`) and by the generated reference `docs/kpis.md`.

Proportions follow one convention: a column whose name ends in `_pct` is a percentage
(100 = all); every other proportion (a share, an occupancy) is a fraction (1 = all).
Counts are whole numbers (int64). A value is null only where its measure says why
(`null_when`); no results table holds NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from flowsim.vocabulary import (
    ACCOUNT_HOLDERS,
    DTOC_REASONS,
    DTOC_RESPONSIBILITY,
    FUNDER_OF,
    ORGANISATIONS,
    PATHWAYS,
)

# -- definitions of the era's national measures ------------------------------------------
# Stranded and super-stranded patients: in hospital 7+ and 21+ days (NHS Improvement,
# "Guide to reducing long hospital stays", 2018).
STRANDED_DAYS, SUPER_STRANDED_DAYS = 7, 21
# The occupancy above which NHS England judged G&A beds unsafely full (92%, planning
# guidance 2016/17 onwards).
HIGH_OCCUPANCY = 0.92
# Emergency readmission within 30 days of discharge (NHS Outcomes Framework indicator 3b).
READMISSION_DAYS = 30

Kind = Literal["key", "attribute", "count", "quantity", "proportion", "money", "time", "flag"]
Better = Literal["higher", "lower"] | None

# How each kind of value reads; proportions take theirs from the naming convention.
_SCALE_OF_KIND = {
    "key": "identifier",
    "attribute": "category",
    "count": "whole number",
    "quantity": "decimal",
    "money": "decimal",
    "time": "decimal",
    "flag": "true or false",
}
PERCENT = "percent (100 = all)"
FRACTION = "fraction (1 = all)"


@dataclass(frozen=True)
class Measure:
    """One column of a results table: what it is and how to read it.

    `kind` says what sort of value it is (and so its Arrow type: counts are int64, flags
    bool, quantities, proportions, money and times float64); `scale` how to read the
    number, derived from the kind and, for proportions, from the name (`_pct`: percent);
    `better` which direction is an improvement, or None where neither is; `null_when`
    why a value may be missing (None: never missing); `decimals` how many to show.
    """

    name: str
    label: str
    unit: str
    kind: Kind
    description: str
    better: Better = None
    null_when: str | None = None
    decimals: int | None = None
    scale: str = field(init=False)

    def __post_init__(self) -> None:
        if self.kind == "proportion":
            scale = PERCENT if self.name.endswith("_pct") else FRACTION
        else:
            scale = _SCALE_OF_KIND[self.kind]
        object.__setattr__(self, "scale", scale)

    def format(self, value: float | None) -> str:
        """The value as a reader sees it: '95.1%' for a fraction 0.951, '£1,234' for money."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if self.kind == "proportion":
            shown = 100.0 * value if self.scale == FRACTION else value
            return f"{shown:.{1 if self.decimals is None else self.decimals}f}%"
        if self.kind == "money":  # '-£1,234' for a deficit; never '-£0'
            pounds = f"£{abs(value):,.{self.decimals or 0}f}"
            return f"-{pounds}" if value < 0 and pounds.strip("£0.,") else pounds
        return f"{value:,.{self.decimals or 0}f}"

    def metadata(self) -> dict[bytes, bytes]:
        """Arrow field metadata: label, unit, scale, better, kind, description, null_when."""
        values = {
            "label": self.label,
            "unit": self.unit,
            "scale": self.scale,
            "better": self.better or "neither",
            "kind": self.kind,
            "description": self.description,
        }
        if self.null_when is not None:
            values["null_when"] = self.null_when
        return {k.encode(): v.encode("utf-8") for k, v in values.items()}


_m = Measure  # short, for the long lists below


# Why some values are missing.
_NO_ATTENDANCES = "no A&E attendance arrived in the period"
_NO_BEDS = "no bed or place was available in the period (a capacity of zero)"
_NO_DISCHARGES = "no patient left an acute bed in the period"

_STAGE = "null where the stage did not happen (or had not happened by the end of the run)"
POOL_NAMES = ("community_beds", "reablement", "home_care", "care_home", "virtual_ward")
_POOL_LABELS = {
    "community_beds": "Community (intermediate-care) beds",
    "reablement": "Reablement",
    "home_care": "Home-care packages",
    "care_home": "Care-home places",
    "virtual_ward": "Virtual ward / rapid response",
}

# -- keys shared by the daily and long tables --------------------------------------------
DATE = _m("date", "Date", "date", "key", "The calendar day (run.start_date + day).")
WARMUP = _m(
    "warmup",
    "Warm-up day",
    "true/false",
    "flag",
    "True on the run.warmup_days days before the measured window; KPIs leave them out.",
)

# -- the daily table: one row per day, system-level --------------------------------------
DAILY: tuple[Measure, ...] = (
    DATE,
    WARMUP,
    _m("day", "Day of the run", "day", "key", "Days since the run's start (0 is run.start_date)."),
    _m(
        "population",
        "People in the footprint",
        "people",
        "count",
        "People alive in the footprint at midnight ending the day.",
    ),
    _m(
        "in_hospital",
        "People on an acute route",
        "people",
        "count",
        "People waiting for or in an acute bed at midnight ending the day.",
    ),
    _m(
        "care_home_residents",
        "Care-home residents",
        "people",
        "count",
        "People living in a care home at midnight ending the day.",
    ),
    _m(
        "home_care_clients",
        "People with home care",
        "people",
        "count",
        "People living at home with a home-care package at midnight ending the day.",
    ),
    _m(
        "ae_attendances",
        "A&E attendances",
        "attendances",
        "count",
        "A&E arrivals on the day (walk-in, ambulance, GP-referred).",
    ),
    _m(
        "ae_walk_in",
        "A&E walk-in arrivals",
        "attendances",
        "count",
        "Arrivals on foot, including people a full general practice sent on.",
    ),
    _m(
        "ae_ambulance_arrivals",
        "A&E ambulance arrivals",
        "attendances",
        "count",
        "Arrivals by 999 ambulance.",
    ),
    _m(
        "ae_gp_referrals",
        "A&E arrivals referred by a GP",
        "attendances",
        "count",
        "Arrivals referred to A&E by general practice.",
    ),
    _m(
        "ae_extra_travel_hours",
        "Extra ambulance journey hours",
        "hours",
        "quantity",
        "Hours added to the day's ambulance journeys because their site closed (a consolidation's "
        "extra_travel_minutes for each ambulance arrival from the closed site's practices); 0 otherwise.",
        better="lower",
        decimals=1,
    ),
    _m(
        "ae_handovers",
        "Ambulance handovers",
        "patients",
        "count",
        "Ambulance arrivals of the day handed over to A&E (into a free majors cubicle), by day of arrival.",
    ),
    _m(
        "ae_handover_hours",
        "Ambulance handover waits, hours",
        "hours",
        "quantity",
        "Hours from arrival to handover of the day's ambulance arrivals (crews waiting with their patients).",
        better="lower",
        decimals=1,
    ),
    _m(
        "ae_handovers_over_30min",
        "Handovers over 30 minutes",
        "patients",
        "count",
        "Ambulance arrivals of the day handed over more than 30 minutes after arriving (a national measure).",
        better="lower",
    ),
    _m(
        "ae_handovers_over_60min",
        "Handovers over 60 minutes",
        "patients",
        "count",
        "Ambulance arrivals of the day handed over more than 60 minutes after arriving (a national measure).",
        better="lower",
    ),
    _m(
        "ae_departures",
        "A&E departures",
        "attendances",
        "count",
        "Patients leaving A&E on the day (by day of leaving).",
    ),
    _m(
        "ae_4h_known",
        "A&E arrivals with a known 4-hour outcome",
        "attendances",
        "count",
        "Arrivals on the day that left A&E, or were still there 4 hours after arriving at the end of the run.",
    ),
    _m(
        "ae_within_4h",
        "A&E arrivals leaving within 4 hours",
        "attendances",
        "count",
        "Arrivals on the day that left A&E within 4 hours of arriving.",
        better="higher",
    ),
    _m(
        "ae_4h_pct",
        "A&E patients leaving within 4 hours",
        "%",
        "proportion",
        "100 x ae_within_4h / ae_4h_known, by day of arrival.",
        better="higher",
        null_when="no arrival of the day has a known 4-hour outcome",
    ),
    _m(
        "ae_12h_dta_waits",
        "Waits over 12 hours from decision to admit",
        "patients",
        "count",
        "Admitted A&E patients whose 12 hours from decision to admit ran out on the day while still in A&E "
        "(patients still there at the end of the run count too).",
        better="lower",
    ),
    _m(
        "ae_dta_admitted",
        "A&E decisions to admit (by day of decision)",
        "patients",
        "count",
        "Admitted A&E patients, counted on the day of the decision to admit: the denominator of the 4-hour wait for a bed.",
    ),
    _m(
        "ae_dta_over_4h",
        "Waits over 4 hours from decision to admit",
        "patients",
        "count",
        "Admitted A&E patients who waited over 4 hours from the decision to admit to leaving A&E for a bed, "
        "by day of the decision (patients still waiting at the end of the run count).",
        better="lower",
    ),
    _m(
        "outlier_bed_days",
        "Outlier bed-days",
        "bed-days",
        "quantity",
        "Bed-days of patients placed in another ward group's bed than their own specialty's (not escalation beds).",
        better="lower",
        decimals=1,
    ),
    _m(
        "escalation_bed_days",
        "Escalation bed-days",
        "bed-days",
        "quantity",
        "Bed-days used in escalation beds, opened when a site's occupancy crosses its threshold.",
        better="lower",
        decimals=1,
    ),
    _m(
        "sites_with_a_full_group",
        "Sites with a full ward group",
        "sites",
        "count",
        "Sites at which some ward group had no free bed when a patient needed one on the day "
        "(someone queued for it, or one of its patients was placed in another group).",
        better="lower",
    ),
    _m(
        "ae_admitted",
        "A&E decisions to admit",
        "patients",
        "count",
        "Arrivals on the day given a decision to admit (not those diverted to a virtual ward).",
    ),
    _m(
        "admissions_avoided",
        "Admissions avoided",
        "patients",
        "count",
        "Decisions to admit (in A&E, or a GP's direct admission) diverted to the virtual ward / rapid response on the day.",
        better="higher",
    ),
    _m(
        "ae_boarding_hours",
        "Hours boarded in A&E",
        "patient-hours",
        "quantity",
        "Hours admitted patients spent in A&E between decision to admit and leaving, within the day.",
        better="lower",
        decimals=1,
    ),
    _m(
        "ae_boarders_mean",
        "Patients boarding in A&E, average",
        "patients",
        "quantity",
        "ae_boarding_hours / 24: the time-weighted mean number of admitted patients waiting in A&E.",
        better="lower",
        decimals=1,
    ),
    _m(
        "emergency_admissions",
        "Emergency admissions",
        "admissions",
        "count",
        "A&E and GP direct admissions that moved into an acute bed on the day.",
    ),
    _m(
        "direct_admissions",
        "GP direct admissions",
        "admissions",
        "count",
        "GP direct admissions that moved into an acute bed on the day.",
    ),
    _m(
        "elective_admissions",
        "Elective admissions",
        "admissions",
        "count",
        "Booked electives that moved into an acute bed on the day.",
        better="higher",
    ),
    _m(
        "elective_cancellations",
        "Electives cancelled on the day",
        "operations",
        "count",
        "Electives with no bed within acute.elective_max_wait_hours of their booked time.",
        better="lower",
    ),
    _m(
        "acute_discharges",
        "Acute discharges",
        "patients",
        "count",
        "Patients leaving an acute bed on the day, deaths included.",
    ),
    _m(
        "acute_los_days_sum",
        "Length of stay of the day's discharges, summed",
        "days",
        "quantity",
        "Sum over the day's acute discharges of (bed end - bed start) / 24.",
        decimals=1,
    ),
    _m(
        "excess_bed_days",
        "Excess bed-days paid",
        "bed-days",
        "quantity",
        "Days of clinical stay (bed start to medically fit) beyond payments.tariff.excess_trim_days, of non-elective stays "
        "ending on the day: the excess bed-days a tariff pays for.",
        decimals=1,
    ),
    *(
        _m(
            f"discharges_{p.lower()}",
            f"Discharges on pathway {p}",
            "patients",
            "count",
            f"Patients leaving an acute bed alive on the day on discharge pathway {p}.",
        )
        for p in PATHWAYS
    ),
    _m(
        "deaths_in_hospital",
        "Deaths in hospital",
        "deaths",
        "count",
        "Patients who died at the end of their acute stay, on the day.",
    ),
    _m(
        "deconditioned_patients",
        "Patients deconditioned by a long stay",
        "patients",
        "count",
        "Patients leaving hospital on the day whose frailty rose a level because of a long stay.",
        better="lower",
    ),
    _m(
        "care_home_entries",
        "New care-home residents",
        "people",
        "count",
        "Moves into a care-home place (from hospital or from the community) on the day.",
        better="lower",
    ),
    _m(
        "acute_beds",
        "General and acute beds available",
        "beds",
        "quantity",
        "Time-weighted mean of available G&A beds over the day, all sites.",
        decimals=1,
    ),
    _m(
        "acute_bed_days",
        "Acute bed-days used",
        "bed-days",
        "quantity",
        "Occupied G&A bed-hours / 24, all sites: the time-weighted mean of beds in use.",
        decimals=1,
    ),
    _m(
        "acute_occupancy",
        "Acute bed occupancy",
        "fraction",
        "proportion",
        "acute_bed_days / acute_beds. A bed counts as occupied from the moment it is allocated (so including "
        "the transfer from A&E and delayed patients). Above 1 only while a capacity cut leaves more beds in use "
        "than available (a cut evicts no one; see acute_overfull_beds).",
        null_when="no acute bed was available all day",
    ),
    _m(
        "acute_overfull_beds",
        "Acute beds in use above capacity",
        "beds",
        "count",
        "Beds in use beyond the beds available, summed over sites, at the midnight that starts the day (after "
        "that day's capacity change): non-zero only after a capacity cut, until enough patients have left.",
        better="lower",
    ),
    _m(
        "dtoc_bed_days",
        "Bed-days of delayed transfers of care (acute)",
        "bed-days",
        "quantity",
        "Hours medically fit patients held an acute bed on the day / 24.",
        better="lower",
        decimals=1,
    ),
    _m(
        "dtoc_beds",
        "Beds occupied by delayed patients",
        "beds",
        "quantity",
        "The same as dtoc_bed_days: the day's time-weighted mean of delayed beds.",
        better="lower",
        decimals=1,
    ),
    _m(
        "stranded",
        "Stranded patients (7+ days)",
        "patients",
        "count",
        f"Inpatients whose time since moving into the bed is {STRANDED_DAYS} days or more, at midnight ending the day.",
        better="lower",
    ),
    _m(
        "super_stranded",
        "Super-stranded patients (21+ days)",
        "patients",
        "count",
        f"Inpatients whose time since moving into the bed is {SUPER_STRANDED_DAYS} days or more, at midnight ending the day.",
        better="lower",
    ),
    _m(
        "gp_consultations",
        "GP consultations",
        "consultations",
        "count",
        "People seen in general practice on the day.",
    ),
    _m(
        "spend_total",
        "System spend",
        "£",
        "money",
        "Cost of every provider on the day, at the config's costs.price_base (see the spend table).",
        better="lower",
    ),
)

# -- the occupancy table: one row per day and pool ---------------------------------------
OCCUPANCY: tuple[Measure, ...] = (
    DATE,
    _m(
        "pool",
        "Service",
        "name",
        "key",
        "acute (one row per site and ward group), " + ", ".join(POOL_NAMES) + ".",
    ),
    _m(
        "site",
        "Acute site",
        "name",
        "key",
        "The acute site (a name from acute.sites).",
        null_when="the pool is not an acute site",
    ),
    _m(
        "ward_group",
        "Ward group",
        "name",
        "key",
        "The acute ward group (a name from acute.ward_groups, 'all' when beds are not split, or 'escalation').",
        null_when="the pool is not an acute site",
    ),
    _m(
        "capacity",
        "Places available",
        "beds or places",
        "quantity",
        "Time-weighted mean of beds or places available over the day.",
        decimals=1,
    ),
    _m(
        "occupied",
        "Places in use",
        "beds or places",
        "quantity",
        "Time-weighted mean of beds or places in use (allocated) over the day: the day's bed-days.",
        decimals=1,
    ),
    _m(
        "occupancy",
        "Occupancy",
        "fraction",
        "proportion",
        "occupied / capacity. Above 1 only while a capacity cut leaves more in use than available (a cut evicts no one; see overfull).",
        null_when="the pool had no capacity all day",
    ),
    _m(
        "waiting",
        "People waiting for a place",
        "people",
        "quantity",
        "Time-weighted mean of requests queued for the pool over the day.",
        better="lower",
        decimals=1,
    ),
    _m(
        "delayed",
        "Places held by people ready to move on",
        "beds or places",
        "quantity",
        "Time-weighted mean of places held by people medically fit (or ready) waiting for their next service.",
        better="lower",
        decimals=1,
    ),
    _m(
        "overfull",
        "Places in use above capacity",
        "beds or places",
        "count",
        "Places in use beyond capacity at the midnight that starts the day (after that day's capacity change).",
        better="lower",
    ),
)

# -- the delays table: one row per day, pathway awaited, reason and responsible organisation
DELAYS: tuple[Measure, ...] = (
    DATE,
    _m(
        "pathway",
        "Discharge pathway awaited",
        "pathway",
        "key",
        "P1 home with support, P2 community bed, P3 care home.",
    ),
    _m(
        "reason",
        "Reason for the delay",
        "reason",
        "key",
        "As in the national DTOC collection: " + ", ".join(DTOC_REASONS) + ". The time from medically fit "
        "to the onward request is completion_of_assessment; the rest is the wait for the service, whose reason "
        "follows from the kind of service awaited (pathways.delay_reasons).",
    ),
    _m(
        "responsible_organisation",
        "Organisation responsible for the delay",
        "organisation",
        "key",
        "As in the national DTOC collection: "
        + ", ".join(DTOC_RESPONSIBILITY)
        + ". An assessment is charged "
        "to whoever assesses for the service awaited, the wait for the service to whoever provides or funds it "
        "(pathways.delay_reasons); a P1 restart of an existing package has no assessment.",
    ),
    _m(
        "beds",
        "Delayed acute beds",
        "beds",
        "quantity",
        "Time-weighted mean over the day of acute beds held by medically fit patients.",
        better="lower",
        decimals=1,
    ),
)

# -- the spend table: one row per day, cost item and part (the cost view) ----------------
SPEND: tuple[Measure, ...] = (
    DATE,
    _m(
        "organisation",
        "Provider",
        "organisation",
        "key",
        "Who bears the cost, the organisation that provides the service: " + ", ".join(ORGANISATIONS) + ".",
    ),
    _m(
        "item",
        "Cost item",
        "item",
        "key",
        "A service of costs (acute_bed_day, ae_attendance, care_home_day, ...), or running_cost for an "
        "intervention's yearly cost (negative for a saving: a closed site's fixed cost).",
    ),
    _m(
        "part",
        "Fixed or variable",
        "part",
        "key",
        "fixed: the capacity kept open that day (places open, or still in use after a cut, x fixed_per_place_day, clinician hours on the "
        "A&E rota, appointments offered, an ambulance service per 1,000 people, a running cost), saved only "
        "from the day it closes; variable: unit_cost x the day's activity (place-days in use, attendances, "
        "spells, conveyances, consultations).",
    ),
    _m(
        "intervention",
        "Intervention",
        "name",
        "attribute",
        "The intervention whose running cost this is.",
        null_when="the item is a service's cost, not a running cost",
    ),
    _m(
        "pounds",
        "Cost",
        "£",
        "money",
        "The provider's cost on the day, at the config's costs.price_base.",
        better="lower",
    ),
)

# -- the flows table: one row per day and payment (the payment view) ---------------------
FLOWS: tuple[Measure, ...] = (
    DATE,
    _m(
        "payer",
        "Payer",
        "organisation",
        "key",
        "Who pays: a commissioner, the pooled system_budget, an intervention's payer, or a funder outside "
        "the footprint (" + ", ".join(sorted(set(FUNDER_OF.values()))) + ") for a commissioner's budget.",
    ),
    _m("payee", "Payee", "organisation", "key", "Who is paid: " + ", ".join(ACCOUNT_HOLDERS) + "."),
    _m(
        "rule",
        "Payment rule",
        "rule",
        "key",
        "allocation (a commissioner's budget from outside), tariff (a national price per unit of activity), "
        "block (a fixed sum a day), purchase (the council's price per place-day in use), commission (an "
        "intervention's running cost, paid by its payer to its provider), pooled (one system, one budget: "
        "the commissioners' budgets into the pool, the pool paying each provider its cost).",
    ),
    _m(
        "item",
        "What is paid for",
        "item",
        "key",
        "A tariff item (ae_attendance, non_elective_spell, elective_spell, excess_bed_day, "
        "ambulance_conveyance), a purchase item (home_care_day, care_home_day, reablement_day), block, "
        "allocation, or a cost item paid from the pool.",
    ),
    _m(
        "intervention",
        "Intervention",
        "name",
        "attribute",
        "The intervention whose running cost this pays.",
        null_when="the payment is not for an intervention's running cost",
    ),
    _m("pounds", "Paid", "£", "money", "Paid on the day, at the config's costs.price_base."),
)

# -- the finance table: one row per day and organisation ---------------------------------
FINANCE: tuple[Measure, ...] = (
    DATE,
    _m("organisation", "Organisation", "organisation", "key", ", ".join(ACCOUNT_HOLDERS) + "."),
    _m(
        "allocation",
        "Budget from outside",
        "£",
        "money",
        "A commissioner's budget for the services modelled (payments.allocation_per_person_a_year), from "
        "outside the footprint.",
    ),
    _m(
        "income",
        "Income",
        "£",
        "money",
        "Paid to it by other organisations of the footprint (the flows table).",
    ),
    _m("payments", "Payments", "£", "money", "Paid by it to other organisations of the footprint."),
    _m("cost", "Cost", "£", "money", "Its own cost of providing services (the spend table).", better="lower"),
    _m(
        "surplus",
        "Surplus (deficit if negative)",
        "£",
        "money",
        "allocation + income - payments - cost. Summed over organisations: the budgets less the system's cost, "
        "whatever the payment rule.",
        better="higher",
    ),
)

# -- the kpis table: one row per run, over the measured window ---------------------------
_WINDOW = "in the measured window (after warm-up)"
KPIS: tuple[Measure, ...] = (
    _m(
        "population",
        "People in the footprint",
        "people",
        "quantity",
        "Mean number of people in the footprint over the window.",
    ),
    _m("days", "Days measured", "days", "count", "Days in the measured window: run.horizon_days."),
    _m(
        "ae_attendances",
        "A&E attendances",
        "attendances",
        "count",
        f"A&E arrivals {_WINDOW} (walk-in, ambulance, GP-referred).",
    ),
    _m(
        "ae_4h_pct",
        "A&E patients leaving within 4 hours",
        "%",
        "proportion",
        "By day of arrival: 100 x attendances arriving in the window that left A&E within 4 hours / attendances "
        "arriving in the window whose 4-hour outcome is known (those who left, and those still in A&E at the end "
        "of the run once 4 hours have passed, who count as breaches).",
        better="higher",
        null_when=_NO_ATTENDANCES,
    ),
    _m(
        "ae_12h_dta_waits",
        "Waits over 12 hours from decision to admit",
        "patients",
        "count",
        "Admitted A&E patients whose time from decision to admit to leaving A&E was over 12 hours, counted on the "
        "day the 12 hours ran out (patients still in A&E at the end of the run count too).",
        better="lower",
    ),
    _m(
        "ae_dta_over_4h",
        "Waits over 4 hours from decision to admit",
        "patients",
        "count",
        "Admitted A&E patients who waited over 4 hours from the decision to admit to leaving A&E for a bed.",
        better="lower",
    ),
    _m(
        "ae_dta_over_4h_share",
        "Admissions through A&E waiting over 4 hours for a bed",
        "fraction",
        "proportion",
        "ae_dta_over_4h / decisions to admit in the window (about 0.13 in England in 2016/17).",
        better="lower",
        null_when=_NO_ATTENDANCES,
    ),
    _m(
        "outlier_bed_days",
        "Outlier bed-days",
        "bed-days",
        "quantity",
        "Bed-days of patients placed outside their own specialty's ward group (not escalation beds).",
        better="lower",
        decimals=0,
    ),
    _m(
        "escalation_bed_days",
        "Escalation bed-days",
        "bed-days",
        "quantity",
        "Bed-days used in escalation beds (staffed at a cost borne by the trust).",
        better="lower",
        decimals=0,
    ),
    _m(
        "days_site_group_full",
        "Site-days with a full ward group",
        "site-days",
        "count",
        "Sum over days of the sites at which some ward group had no free bed when a patient needed one.",
        better="lower",
    ),
    _m(
        "ae_conversion_pct",
        "A&E attendances admitted",
        "%",
        "proportion",
        "100 x A&E patients with a decision to admit / A&E attendances (patients diverted to a virtual ward are not counted as admitted).",
        null_when=_NO_ATTENDANCES,
    ),
    _m(
        "ae_ambulance_share",
        "A&E arrivals by ambulance",
        "fraction",
        "proportion",
        "Ambulance arrivals / all attendances.",
        null_when=_NO_ATTENDANCES,
    ),
    _m(
        "ambulance_extra_travel_minutes",
        "Extra ambulance journey, average",
        "minutes",
        "quantity",
        "60 x ae_extra_travel_hours / ae_ambulance_arrivals: minutes a site's closure added to the "
        "average ambulance journey to A&E.",
        better="lower",
        decimals=2,
        null_when="no ambulance arrivals in the window",
    ),
    _m(
        "ae_boarders_mean",
        "Patients boarding in A&E, average",
        "patients",
        "quantity",
        "Time-weighted mean number of admitted patients in A&E between decision to admit and leaving (or the end of the run).",
        better="lower",
        decimals=1,
    ),
    _m(
        "ambulance_handover_minutes_mean",
        "Ambulance handover wait, average",
        "minutes",
        "time",
        "Mean minutes from an ambulance's arrival to handing its patient over into a free majors cubicle.",
        better="lower",
        decimals=1,
        null_when="no ambulance arrival handed over in the window",
    ),
    _m(
        "ambulance_handovers_over_30min_share",
        "Ambulance handovers over 30 minutes",
        "fraction",
        "proportion",
        "Share of ambulance arrivals handed over more than 30 minutes after arriving.",
        better="lower",
        null_when="no ambulance arrival handed over in the window",
    ),
    _m(
        "ambulance_handovers_over_60min_share",
        "Ambulance handovers over 60 minutes",
        "fraction",
        "proportion",
        "Share of ambulance arrivals handed over more than 60 minutes after arriving.",
        better="lower",
        null_when="no ambulance arrival handed over in the window",
    ),
    _m(
        "emergency_admissions",
        "Emergency admissions",
        "admissions",
        "count",
        f"A&E and GP direct admissions that reached an acute bed {_WINDOW} (counted when the patient moves into the bed).",
        better="lower",
    ),
    _m(
        "emergency_admissions_per_1000",
        "Emergency admissions per 1,000 people a year",
        "per 1,000 a year",
        "quantity",
        "emergency_admissions / population x 1,000 x 365 / days.",
        better="lower",
        decimals=2,
    ),
    _m(
        "direct_admissions",
        "GP direct admissions",
        "admissions",
        "count",
        f"GP direct admissions that reached a bed {_WINDOW}.",
    ),
    _m(
        "admissions_avoided",
        "Admissions avoided",
        "patients",
        "count",
        "Admissions from A&E or a GP diverted to the virtual ward / rapid response.",
        better="higher",
    ),
    _m(
        "elective_admissions",
        "Elective admissions",
        "admissions",
        "count",
        f"Electives that reached a bed {_WINDOW}.",
        better="higher",
    ),
    _m(
        "elective_cancellations",
        "Electives cancelled on the day",
        "operations",
        "count",
        "Electives with no bed within acute.elective_max_wait_hours of their booked time.",
        better="lower",
    ),
    _m(
        "acute_beds_mean",
        "General and acute beds available",
        "beds",
        "quantity",
        "Time-weighted mean of available G&A beds, all sites.",
    ),
    _m(
        "acute_occupancy_mean",
        "Acute bed occupancy, average",
        "fraction",
        "proportion",
        "Occupied bed-hours / available bed-hours, all sites (a bed counts as occupied from the moment it is "
        "allocated, so it includes the transfer from A&E and delayed patients). Above 1 only if a capacity cut "
        "leaves more beds in use than available (see acute_overfull_bed_days).",
        null_when=_NO_BEDS,
    ),
    _m(
        "acute_occupancy_p95",
        "Acute bed occupancy, 95th percentile day",
        "fraction",
        "proportion",
        "95th percentile of the daily acute occupancy over the window's days with beds.",
        null_when=_NO_BEDS,
    ),
    _m(
        "acute_days_above_92",
        "Days with acute occupancy above 92%",
        "days",
        "count",
        f"Days whose acute occupancy was above {HIGH_OCCUPANCY}.",
        better="lower",
    ),
    _m(
        "acute_overfull_bed_days",
        "Acute bed-days in use above capacity",
        "bed-days",
        "count",
        "Sum over the window's days of acute beds in use above capacity at the midnight starting the day (a "
        "midnight census, one bed-day per bed): non-zero only after a capacity cut, which evicts no one.",
        better="lower",
    ),
    _m(
        "dtoc_bed_days",
        "Bed-days of delayed transfers of care (acute)",
        "bed-days",
        "quantity",
        "Time integral of medically fit patients holding an acute bed (from medically fit to leaving the bed).",
        better="lower",
    ),
    _m(
        "dtoc_beds_mean",
        "Beds occupied by delayed patients, average",
        "beds",
        "quantity",
        "dtoc_bed_days / days.",
        better="lower",
        decimals=2,
    ),
    _m(
        "dtoc_share_of_beds",
        "Delayed patients as a share of acute beds",
        "fraction",
        "proportion",
        "dtoc_beds_mean / acute_beds_mean.",
        better="lower",
        null_when=_NO_BEDS,
    ),
    *(
        _m(
            f"dtoc_beds_{p.lower()}_mean",
            f"Beds held by patients awaiting {p}, average",
            "beds",
            "quantity",
            f"Mean delayed acute beds of patients waiting for pathway {p} (the delays table by pathway).",
            better="lower",
            decimals=2,
        )
        for p in PATHWAYS[1:]
    ),
    *(
        _m(
            f"dtoc_beds_{org}_mean",
            f"Delayed beds the responsibility of {org.replace('_', ' ')}, average",
            "beds",
            "quantity",
            "Mean delayed acute beds charged to this organisation (the delays table by responsible organisation).",
            better="lower",
            decimals=2,
        )
        for org in DTOC_RESPONSIBILITY
    ),
    *(
        _m(
            f"dtoc_beds_{reason}_mean",
            f"Delayed beds: {reason.replace('_', ' ')}, average",
            "beds",
            "quantity",
            "Mean delayed acute beds recorded under this DTOC reason (the delays table by reason); zero for a "
            "reason the model does not represent.",
            better="lower",
            decimals=2,
        )
        for reason in DTOC_REASONS
    ),
    _m(
        "acute_discharges",
        "Acute discharges",
        "patients",
        "count",
        f"Patients leaving an acute bed {_WINDOW}, deaths included.",
    ),
    _m(
        "mean_los_days",
        "Average acute length of stay",
        "days",
        "quantity",
        "Mean of (bed end - bed start) / 24 over acute_discharges: includes electives, deaths, zero-day stays and delayed days.",
        better="lower",
        null_when=_NO_DISCHARGES,
        decimals=2,
    ),
    *(
        _m(
            f"pathway_share_{p.lower()}",
            label,
            "fraction",
            "proportion",
            f"Share of live acute discharges (emergency and elective) on pathway {p}.",
            null_when="no patient left an acute bed alive in the window",
        )
        for p, label in zip(
            PATHWAYS,
            (
                "Discharges home with no new support (P0)",
                "Discharges home with support (P1)",
                "Discharges to a community bed (P2)",
                "Discharges to a care home (P3)",
            ),
        )
    ),
    _m(
        "deaths_in_hospital",
        "Deaths in hospital",
        "deaths",
        "count",
        "Patients who died at the end of their acute stay.",
    ),
    _m(
        "deconditioned_patients",
        "Patients deconditioned by a long stay",
        "patients",
        "count",
        "Patients leaving hospital alive whose frailty rose one level because of a long stay.",
        better="lower",
    ),
    _m(
        "care_home_entries",
        "New care-home residents",
        "people",
        "count",
        "Moves into a care-home place (from hospital or from the community).",
        better="lower",
    ),
    _m(
        "stranded_mean",
        "Stranded patients (7+ days), average",
        "patients",
        "quantity",
        f"Mean over midnights of inpatients whose time since moving into the bed is {STRANDED_DAYS}+ days.",
        better="lower",
        decimals=1,
    ),
    _m(
        "super_stranded_mean",
        "Super-stranded patients (21+ days), average",
        "patients",
        "quantity",
        f"Mean over midnights of inpatients whose time since moving into the bed is {SUPER_STRANDED_DAYS}+ days.",
        better="lower",
        decimals=1,
    ),
    *(
        m
        for pool in POOL_NAMES
        for m in (
            _m(
                f"{pool}_occupancy_mean",
                f"{_POOL_LABELS[pool]}: occupancy, average",
                "fraction",
                "proportion",
                f"Occupied place-hours / available place-hours of {pool} (above 1 only after a capacity cut).",
                null_when=_NO_BEDS,
            ),
            _m(
                f"{pool}_waiting_mean",
                f"{_POOL_LABELS[pool]}: people waiting, average",
                "people",
                "quantity",
                f"Time-weighted mean queue length of {pool}.",
                better="lower",
                decimals=1,
            ),
            _m(
                f"{pool}_wait_days_mean",
                f"{_POOL_LABELS[pool]}: wait for a place, average",
                "days",
                "time",
                f"Mean time a request for {pool} waits for a place, over everyone referred (from hospital or "
                "from home; a referral from home withdrawn after its longest wait counts its wait): days queued "
                "over requests in the window (Little's law).",
                better="lower",
                decimals=2,
                null_when="no request in the window",
            ),
        )
    ),
    _m(
        "readmissions_30d_pct",
        "Emergency readmissions within 30 days",
        "%",
        "proportion",
        f"100 x share of live acute discharges (not pre-filled patients) in [window start, window end - "
        f"{READMISSION_DAYS} days) followed by an emergency admission of the same person whose bed request came "
        f"within {READMISSION_DAYS} days (and which reached a bed).",
        better="lower",
        null_when=f"no discharge in the window has {READMISSION_DAYS} days of follow-up (a window of {READMISSION_DAYS} days or less)",
    ),
    _m(
        "readmissions_30d_65plus_pct",
        "Emergency readmissions within 30 days, people 65+",
        "%",
        "proportion",
        "readmissions_30d_pct restricted to discharges of people aged 65 or over (age band at the bed request).",
        better="lower",
        null_when=f"no discharge of a person 65+ in the window has {READMISSION_DAYS} days of follow-up",
    ),
    _m(
        "emergency_admissions_65plus_share",
        "Emergency admissions of people 65+",
        "fraction",
        "proportion",
        "Share of the window's emergency admissions aged 65+ (age band at the bed request).",
        null_when="no emergency admission in the window",
    ),
    _m(
        "zero_day_share",
        "Emergency admissions staying under a day",
        "fraction",
        "proportion",
        "Share of the window's emergency admissions whose bed stay was under 24 hours (finished stays only).",
        null_when="no emergency admission of the window has finished its stay",
    ),
    _m("gp_consultations", "GP consultations", "consultations", "count", "People seen in general practice."),
    *(
        _m(
            f"spend_{org}",
            f"Cost: {org.replace('_', ' ')}",
            "£",
            "money",
            f"Cost of {org} providing its services {_WINDOW}, at the config's costs.price_base "
            "(the spend table by organisation).",
            better="lower",
        )
        for org in ORGANISATIONS
    ),
    *(
        measure
        for org in ACCOUNT_HOLDERS
        for measure in (
            _m(
                f"income_{org}",
                f"Income: {org.replace('_', ' ')}",
                "£",
                "money",
                f"Budget from outside and income from other organisations of {org} {_WINDOW} (the finance table).",
            ),
            _m(
                f"payments_{org}",
                f"Payments: {org.replace('_', ' ')}",
                "£",
                "money",
                f"Paid by {org} to other organisations {_WINDOW} (the finance table).",
            ),
            _m(
                f"surplus_{org}",
                f"Surplus: {org.replace('_', ' ')}",
                "£",
                "money",
                f"income - payments - cost of {org} {_WINDOW}; negative: a deficit (the finance table).",
                better="higher",
            ),
        )
    ),
    _m(
        "spend_total",
        "System spend",
        "£",
        "money",
        "Cost of every provider: the system as one budget, the same under every payment rule.",
        better="lower",
    ),
    _m(
        "conservation_ok",
        "Every person accounted for",
        "true/false",
        "flag",
        "True if every daily check passed: every person counted once; everyone flagged in hospital is on an open "
        "acute route; deaths balance newcomers.",
        better="higher",
    ),
)

# -- the episodes table: one row per episode of care (optional) ---------------------------
EPISODES: tuple[Measure, ...] = (
    _m(
        "person_id",
        "Person",
        "id",
        "key",
        "The person's id (a newcomer taking a dead person's slot gets a new id).",
    ),
    _m(
        "date",
        "Date the episode started",
        "date",
        "key",
        "The day of the A&E arrival, or of the bed request of a direct or elective admission.",
    ),
    _m(
        "warmup",
        "Started in warm-up",
        "true/false",
        "flag",
        "True if the episode started (A&E arrival or bed request) before the measured window.",
    ),
    _m(
        "age_band",
        "Age band",
        "band",
        "attribute",
        "Age band at the A&E arrival or, for direct and elective admissions, at the bed request.",
    ),
    _m(
        "frailty",
        "Frailty",
        "level",
        "attribute",
        "Frailty (fit, mild, moderate, severe) at the same moment as age_band.",
    ),
    _m(
        "route",
        "Route in",
        "route",
        "attribute",
        "walk_in, ambulance, gp_referral (A&E), direct (GP direct admission) or elective.",
    ),
    _m(
        "ae_arrival_h",
        "A&E arrival",
        "hours since the run's start",
        "time",
        "Arrival in A&E.",
        null_when="not an A&E attendance",
    ),
    _m(
        "ae_departure_h",
        "A&E departure",
        "hours since the run's start",
        "time",
        "Leaving A&E (home, to a virtual ward, or to the ward).",
        null_when=_STAGE,
    ),
    _m(
        "admitted",
        "Admitted",
        "true/false",
        "flag",
        "True if the episode led to a bed request: a decision to admit in A&E not diverted to a virtual ward, or a direct or elective admission not cancelled.",
    ),
    _m(
        "bed_request_h",
        "Bed requested",
        "hours since the run's start",
        "time",
        "Decision to admit, or the booked time of a direct or elective admission.",
        null_when=_STAGE,
    ),
    _m(
        "bed_start_h",
        "Moved into the bed",
        "hours since the run's start",
        "time",
        "Moving into the acute bed.",
        null_when=_STAGE,
    ),
    _m(
        "medically_fit_h",
        "Medically fit",
        "hours since the run's start",
        "time",
        "Medically fit for discharge.",
        null_when=_STAGE,
    ),
    _m("pathway", "Discharge pathway", "pathway", "attribute", "P0 to P3.", null_when="not admitted"),
    _m(
        "bed_end_h",
        "Left the acute bed",
        "hours since the run's start",
        "time",
        "Leaving the acute bed (discharge, transfer on or death).",
        null_when=_STAGE,
    ),
    _m(
        "delayed_hours",
        "Hours delayed in the bed",
        "hours",
        "time",
        "bed_end_h - medically_fit_h for patients on pathways P1-P3.",
        better="lower",
        null_when="the patient was on P0, or had not both become fit and left the bed by the end of the run",
    ),
    _m(
        "site", "Acute site", "name", "attribute", "The acute site of the episode.", null_when="no acute site"
    ),
    _m(
        "died_in_hospital",
        "Died in hospital",
        "true/false",
        "flag",
        "True if the patient died at the end of the acute stay.",
    ),
)

TABLES: dict[str, tuple[Measure, ...]] = {
    "daily": DAILY,
    "kpis": KPIS,
    "occupancy": OCCUPANCY,
    "delays": DELAYS,
    "spend": SPEND,
    "flows": FLOWS,
    "finance": FINANCE,
    "episodes": EPISODES,
}

# The headline KPIs in the order a reader meets them (the CLI summary, the dashboard).
HEADLINE_KPIS: tuple[str, ...] = (
    "population",
    "ae_attendances",
    "ae_4h_pct",
    "ae_12h_dta_waits",
    "ae_dta_over_4h_share",
    "emergency_admissions",
    "emergency_admissions_per_1000",
    "elective_admissions",
    "elective_cancellations",
    "acute_beds_mean",
    "acute_occupancy_mean",
    "acute_occupancy_p95",
    "dtoc_bed_days",
    "dtoc_beds_mean",
    "mean_los_days",
    "pathway_share_p0",
    "pathway_share_p1",
    "pathway_share_p2",
    "pathway_share_p3",
    "spend_total",
)


def measures(table: str) -> dict[str, Measure]:
    """The measures of one table by column name, in column order."""
    try:
        return {m.name: m for m in TABLES[table]}
    except KeyError:
        raise KeyError(f"no table {table!r}; expected one of {', '.join(TABLES)}") from None


def kpi(name: str) -> Measure:
    """The measure of a `kpis` column."""
    return measures("kpis")[name]
