"""Every keyed draw's slot, in one registry, so no two quantities share a random number.

A keyed draw is a pure function of (stream key, person, episode or day, slot): see
`flowsim.rng.KeyedUniforms`. Each quantity drawn that way has its own slot here; a slot
used by `normal()` lives in a range of uniforms that `uniform()` never touches, so the same
number may serve one normal and one uniform quantity. Never renumber a slot: it would
change every run's outputs.
"""

from __future__ import annotations

from enum import IntEnum, unique


@unique
class EpisodeDraw(IntEnum):
    """Draws keyed by (person, episode of care)."""

    # The acute stay and what follows it (flowsim.services.pathways).
    SHORT_STAY = 0  # uniform: a same-day (zero-night) stay
    SHORT_STAY_HOURS = 1  # normal: its length
    LOS = 2  # normal: length of stay to medically fit
    DISCHARGE_HOUR = 3  # uniform: hour of the ward round that finds the patient fit
    WEEKEND = 4  # uniform: a weekend discharge that waits for Monday
    DEATH = 5  # uniform: death in hospital
    DECONDITION = 6  # uniform: a long stay raises frailty
    PATHWAY = 7  # uniform: discharge pathway P0-P3
    P1_KIND = 8  # uniform: reablement or a package restart
    ONWARD = 9  # uniform: where a P1/P2 patient goes after the service
    STAY1 = 10  # normal: stay in the first service after hospital
    STAY2 = 11  # normal: stay in the second
    WARD_GROUP = 12  # uniform: the ward group (specialty) of an acute admission
    SERVICE_KIND = 13  # uniform: which kind of the onward service (e.g. residential or nursing home)
    # A&E (flowsim.services.emergency).
    AE_ASSESSMENT = 20  # normal: clinician assessment time
    AE_TREATMENT = 21  # normal: treatment and observation time
    AE_ADMIT = 22  # uniform: decision to admit
    AE_AVOIDABLE = 23  # uniform: an admission a virtual ward could avoid
    VIRTUAL_WARD_STAY = 24  # normal: days on the virtual ward
    AE_TRIAGE = 25  # normal: triage time
    # Social care (flowsim.services.social_care).
    PLACE_ENDS_IN_DEATH = 40  # uniform: the end of a package or care-home place is a death


@unique
class DailyDraw(IntEnum):
    """Draws keyed by (person, day)."""

    # Today's needs (flowsim.demand).
    ORDER = 0  # order of the day's needs
    NEED = 1  # which need: walk-in, ambulance or GP
    ARRIVAL_HOUR = 2
    ARRIVAL_MINUTE = 3
    # General practice (flowsim.services.primary_care).
    GP_OVERFLOW = 10  # a patient the practice could not see: deferred, to A&E or elsewhere
    GP_REFERRAL = 11  # a patient seen: referred to A&E, admitted directly or neither
    REFERRAL_HOUR = 12
    REFERRAL_MINUTE = 13
