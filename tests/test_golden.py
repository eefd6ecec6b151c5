"""The model's outputs are those recorded in tests/golden/small.json, column by column.

A refactor must leave every digest as it was. A deliberate change of behaviour or of a
table's shape regenerates the file on purpose (`make golden`), in a commit of its own
that says why, so the change is visible in review.
"""

from __future__ import annotations

import pytest

from tests.golden.outputs import current, differences, stored

pytestmark = pytest.mark.integration


def test_outputs_match_the_golden_run():
    lines = differences(stored(), current())
    assert not lines, "outputs differ from tests/golden/small.json:\n" + "\n".join(lines)
