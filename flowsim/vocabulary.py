"""The domain's words and codes, defined once: everyone else imports them from here.

Names that appear in configs and results are tuples of strings (with a `Literal` type for
the schema); codes held in numpy arrays are `IntEnum`s, whose members compare equal to the
integers in the arrays. One meaning per word:

- a *need* is what a person has today (an A&E walk-in, an ambulance call, a GP contact);
- an *arrival* is how an attendance reaches A&E (walk-in, ambulance, GP referral);
- a *route* is the sequence of legs through capacity pools that the core runs for one
  person (an acute stay, then perhaps a community bed); its *route handle* is the core's
  number for it, and the *ledger* (flowsim.ledger) records why it started (its *origin*);
- a *core event* is what the core reports about a route (granted, moved, fit, ...).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal, get_args

from flowsim._core.kinds import CoreEvent  # the core defines its own codes; re-exported here

AgeBand = Literal["0-15", "16-44", "45-64", "65-74", "75-84", "85+"]
AGE_BANDS: tuple[AgeBand, ...] = get_args(AgeBand)
OLDER_BANDS = 3  # index of the first band of people aged 65 and over

FrailtyLevel = Literal["fit", "mild", "moderate", "severe"]
FRAILTY_LEVELS: tuple[FrailtyLevel, ...] = get_args(FrailtyLevel)
MOST_FRAIL = len(FRAILTY_LEVELS) - 1

ResidenceName = Literal["home", "home_care", "care_home"]
RESIDENCES: tuple[ResidenceName, ...] = get_args(ResidenceName)


class Residence(IntEnum):
    """Where a person lives: at home, at home with a care package, or in a care home."""

    HOME = 0
    HOME_CARE = 1
    CARE_HOME = 2


class Need(IntEnum):
    """A need for urgent care drawn for a person today."""

    WALK_IN = 0  # walks into A&E
    AMBULANCE = 1  # calls 999 and is conveyed
    GP = 2  # contacts their general practice


class Arrival(IntEnum):
    """How an attendance reached A&E (the `route` column of the episodes table)."""

    WALK_IN = 0
    AMBULANCE = 1
    GP_REFERRAL = 2


ARRIVAL_NAMES = ("walk_in", "ambulance", "gp_referral")

PathwayName = Literal["P0", "P1", "P2", "P3"]
PATHWAYS: tuple[PathwayName, ...] = get_args(PathwayName)


class Pathway(IntEnum):
    """Discharge pathway out of an acute bed (the national discharge-to-assess model)."""

    P0 = 0  # home, no new support
    P1 = 1  # home with support: reablement or a package restarted
    P2 = 2  # a community (intermediate-care) bed
    P3 = 3  # a care-home placement


NO_PATHWAY = -1

# Organisations inside the footprint. Providers spend (the cost view); commissioners pay
# providers from budgets that come from outside (the payment view, flowsim.payments).
# care_providers are the independent home-care agencies and care homes the council buys from.
Organisation = Literal[
    "acute_trust",
    "community_provider",
    "ccg",
    "local_authority",
    "general_practice",
    "ambulance_trust",
    "care_providers",
]
ORGANISATIONS: tuple[Organisation, ...] = get_args(Organisation)
Commissioner = Literal["ccg", "local_authority"]
COMMISSIONERS: tuple[Commissioner, ...] = get_args(Commissioner)
# "One system, one budget": the commissioners pool their budgets into one, which pays
# every provider its cost. It holds money, so it has a line of accounts, but provides nothing.
SYSTEM_BUDGET = "system_budget"
ACCOUNT_HOLDERS: tuple[str, ...] = (*ORGANISATIONS, SYSTEM_BUDGET)
# Where each commissioner's budget comes from: outside the footprint.
FUNDER_OF: dict[str, str] = {"ccg": "nhs_england", "local_authority": "government"}
PaymentRule = Literal["tariff", "block", "purchase"]
PAYMENT_RULES: tuple[PaymentRule, ...] = get_args(PaymentRule)

DtocResponsibility = Literal["nhs", "social_care", "both"]
DTOC_RESPONSIBILITY: tuple[DtocResponsibility, ...] = get_args(DtocResponsibility)
# Reasons for delay of the national DTOC collection (the monthly situation report's A-I).
# The model represents the first five as capacity or a process; the others are named so
# that a config can say which it does not represent (docs/model.md).
DtocReason = Literal[
    "completion_of_assessment",
    "further_non_acute_nhs_care",
    "residential_home",
    "nursing_home",
    "care_package_in_own_home",
    "community_equipment",
    "patient_or_family_choice",
    "disputes",
    "housing",
]
DTOC_REASONS: tuple[DtocReason, ...] = get_args(DtocReason)


class Origin(IntEnum):
    """Why a route started, as the ledger records it."""

    AE_ADMISSION = 0  # admitted from A&E
    DIRECT_ADMISSION = 1  # admitted on a GP's referral, not through A&E
    ELECTIVE = 2  # a booked admission
    HOME_CARE_START = 3  # a package started from the community
    CARE_HOME_ENTRY = 4  # a care-home place taken from the community
    VIRTUAL_WARD = 5  # an admission avoided: a virtual-ward or rapid-response slot
    RESIDENT = 6  # already under way when the run began (the warm start)
    STEP_UP = 7  # referred to intermediate care from home, not from hospital


ORIGIN_NAMES = tuple(origin.name.lower() for origin in Origin)

# Pools downstream of the acute sites, in the core's order after the sites; "home" never
# fills: a restart of an existing package only takes time.
DOWNSTREAM_POOLS = ("community_beds", "reablement", "home_care", "care_home", "virtual_ward", "home")

__all__ = [
    "ACCOUNT_HOLDERS",
    "AGE_BANDS",
    "ARRIVAL_NAMES",
    "COMMISSIONERS",
    "FUNDER_OF",
    "PAYMENT_RULES",
    "SYSTEM_BUDGET",
    "DOWNSTREAM_POOLS",
    "DTOC_REASONS",
    "DTOC_RESPONSIBILITY",
    "FRAILTY_LEVELS",
    "MOST_FRAIL",
    "NO_PATHWAY",
    "OLDER_BANDS",
    "ORGANISATIONS",
    "ORIGIN_NAMES",
    "PATHWAYS",
    "RESIDENCES",
    "AgeBand",
    "CoreEvent",
    "Arrival",
    "Commissioner",
    "DtocReason",
    "DtocResponsibility",
    "FrailtyLevel",
    "Need",
    "Organisation",
    "Origin",
    "Pathway",
    "PathwayName",
    "PaymentRule",
    "Residence",
    "ResidenceName",
]
