"""Every measure defined once, and the results tables derived from what a run recorded.

    registry.py    each column of each table: label, unit, scale, better direction
    recorder.py    the one reader of the live model: snapshots at midnight, RunLogs at the end
    logs.py        RunLogs: what the run recorded, as plain columns
    per_day.py     events and intervals summed into days
    daily.py       the daily table (system-level)
    occupancy.py   beds and places by day and pool (long)
    delays.py      delayed transfers of care by pathway and responsible organisation (long)
    readmissions.py, kpis.py, episodes.py
    tables.py      Arrow tables with the registry's field metadata
    reference.py   docs/kpis.md, generated from the registry

Every derivation is a pure function of a `RunLogs`.
"""
