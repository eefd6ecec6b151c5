"""The validation report: the default footprint against the national figures of its era,
and the bed-and-transfer core against queueing theory.

`flowsim report validation` runs it; `build_report` is the same from Python.
"""

from __future__ import annotations

from flowsim.validation.report import ReportOutcome, build_report

__all__ = ["ReportOutcome", "build_report"]
