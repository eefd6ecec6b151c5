"""The dashboard's pages, in the order of the navigation bar. Importing a page registers its
callbacks, so this package is imported once, by `create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
