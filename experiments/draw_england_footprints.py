"""Draw the populations of 44 footprints with the spread of England's STPs (run once).

England's 44 Sustainability and Transformation Partnership footprints (2016) held 0.3 to
2.8 million people each, 1.2 to 1.25 million on average, 55.3 million in all (ONS mid-2016;
NHS England, STP footprints, 2016). This keeps the smallest and largest as observed (0.3
and 2.8 million) and draws the 42 between from a lognormal with coefficient of variation
0.45 (seed 20161), kept within that range and rescaled to add up to England's total: the spread of the real
footprints, not their names. Writes configs/data/england_footprints.csv:

    python experiments/draw_england_footprints.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ENGLAND = 55_270_000  # ONS mid-2016
FOOTPRINTS = 44
LOW, HIGH = 300_000, 2_800_000
CV = 0.45
SEED = 20161


def draw() -> list[int]:
    """The smallest and largest footprints as observed; the 42 between drawn and rescaled."""
    middle_total = ENGLAND - LOW - HIGH
    mean = middle_total / (FOOTPRINTS - 2)
    sigma2 = np.log1p(CV**2)
    rng = np.random.default_rng(SEED)
    sizes = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), FOOTPRINTS - 2)
    for _ in range(100):  # rescale to the total, keeping within the observed range
        sizes = np.clip(sizes * middle_total / sizes.sum(), LOW, HIGH)
    sizes = np.round(sizes / 1000) * 1000
    sizes[np.argmax(sizes)] += middle_total - sizes.sum()  # the total exactly
    return sorted([LOW, HIGH, *(int(s) for s in sizes)])


def main() -> None:
    sizes = draw()
    out = Path(__file__).resolve().parents[1] / "configs" / "data" / "england_footprints.csv"
    lines = [
        "# 44 footprints with the spread of England's STPs (0.3-2.8 million, mean 1.26 million,",
        "# 55.27 million in all: ONS mid-2016, NHS England STP footprints 2016), drawn by",
        "# experiments/draw_england_footprints.py (lognormal, cv 0.45, seed 20161). The spread",
        "# of the real footprints, not their names or their populations one by one.",
        "name,population",
        *(f"footprint_{i + 1:02d},{s}" for i, s in enumerate(sizes)),
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{out}: {len(sizes)} footprints, {min(sizes):,} to {max(sizes):,}, total {sum(sizes):,}")


if __name__ == "__main__":
    main()
