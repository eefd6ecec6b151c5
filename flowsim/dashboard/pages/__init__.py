"""The dashboard's pages, in the order of the navigation bar. Importing a page registers its
callbacks, so this package is imported once, by `create_app`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flowsim.dashboard.data import Results
from flowsim.dashboard.pages import capacity, flow, money, overview, provenance, sweeps

__all__ = ["PAGES", "Page"]


@dataclass(frozen=True)
class Page:
    key: str
    name: str
    path: str
    layout: Callable[..., Any]

    @property
    def module(self) -> str:
        return f"flowsim.dashboard.pages.{self.key}"


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", "/", overview.layout),
    Page("capacity", "Capacity over time", "/capacity", capacity.layout),
    Page("flow", "Patient flow", "/flow", flow.layout),
    Page("money", "Money", "/money", money.layout),
    Page("sweeps", "Sweeps", "/sweeps", sweeps.layout),
    Page("provenance", "Provenance", "/provenance", provenance.layout),
)


def first_views(results: Results, targets: Sequence[str] = ()) -> None:
    """Compute what each page shows first (the default scenario and baseline), so that it
    is cached before anyone asks. A failure here is left for the page to report."""
    from flowsim.dashboard.components import default_pair

    scenario, baseline = default_pair(results.scenarios)
    if scenario is None:
        return
    try:
        overview.content(results, scenario, baseline, "\n".join(targets))
        capacity.content(results, scenario, baseline, capacity.ALL_SITES)
        flow.content(results, scenario, baseline, [])
        money.content(results, scenario, baseline)
    except Exception:  # noqa: BLE001  (the page computes it again and shows what went wrong)
        return
