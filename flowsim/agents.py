"""A person in an episode of care, as a Mesa agent.

Most of the population lives as array rows (see population.py); a Patient exists only
while someone boards in A&E waiting for a bed, so the model holds tens of agents at a
time, not millions.
"""

from __future__ import annotations

import mesa


class Patient(mesa.Agent):
    """One A&E attendance boarding: the person's row in the population and in the attendance log."""

    def __init__(self, model: mesa.Model, person: int, ae_row: int):
        super().__init__(model)
        self.person = person
        self.ae_row = ae_row
