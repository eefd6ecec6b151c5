"""A footprint of another size: the default's rates per person, its capacity scaled to match.

Demand in flowsim is per person (rates per 1,000 a year), so a bigger population brings
proportionally more of it; the capacity that meets it is stated in absolute numbers
(beds, slots, packages, clinicians), so it is scaled here by the ratio of populations and
rounded, as `configs/small.yaml` does by hand for a tenth of the default. Shares (ward
groups, escalation, catchments) scale with the beds they are shares of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowsim.config.schema import FlowsimConfig

__all__ = ["CAPACITY_PATHS", "scaled_capacity"]

# Every absolute capacity of a config (counts): what a footprint of another size has more or less of.
CAPACITY_PATHS = (
    "population.practices",
    "emergency.virtual_ward_slots",
    "community.community_beds",
    "community.reablement_slots",
    "social_care.home_care_packages",
    "social_care.care_home_places",
)


def scaled_capacity(config: FlowsimConfig, population: int) -> dict[str, object]:
    """Dotted overrides that give `config`'s footprint `population` people and capacity in
    proportion (each count rounded, at least 1 where the config has any)."""
    factor = population / config.population.size

    def scale(value: int) -> int:
        return max(1, round(value * factor)) if value > 0 else 0

    out: dict[str, object] = {"population.size": int(population)}
    for path in CAPACITY_PATHS:
        section, key = path.split(".")
        out[path] = scale(getattr(getattr(config, section), key))
    out["emergency.clinicians_by_hour"] = [scale(n) for n in config.emergency.clinicians_by_hour]
    if config.emergency.majors_cubicles is not None:  # None: no limit, at any size
        out["emergency.majors_cubicles"] = scale(config.emergency.majors_cubicles)
    for i, site in enumerate(config.acute.sites):
        out[f"acute.sites[{i}].beds"] = scale(site.beds)
    electives = config.acute.elective_admissions_per_weekday * factor
    out["acute.elective_admissions_per_weekday"] = float(f"{electives:.6g}")
    # Capacity changes are relative and follow the scaled capacity by themselves; the
    # interventions' absolute amounts (slots added, pounds a year) scale with the people.
    from flowsim.config.schema import AdmissionAvoidance, Consolidation, Draw

    def pounds(value: object) -> object:
        if isinstance(value, Draw):  # every bound and parameter of the distribution
            drawn = value.model_dump(exclude_none=True)
            return {k: v * factor if k != "distribution" else v for k, v in drawn.items()}
        return float(f"{float(value) * factor:.6g}")  # type: ignore[arg-type]

    for i, change in enumerate(config.interventions):
        if isinstance(change, AdmissionAvoidance):
            out[f"interventions[{i}].extra_slots"] = scale(change.extra_slots)
        if hasattr(change, "annual_cost"):
            out[f"interventions[{i}].annual_cost"] = pounds(change.annual_cost)
        if isinstance(change, Consolidation):
            out[f"interventions[{i}].annual_saving"] = pounds(change.annual_saving)
    return out
