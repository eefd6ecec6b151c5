"""Experiments at scale: specs, sweeps on local cores or a Dask cluster, and their analysis.

`spec` reads and checks an experiment; `design` draws its samples; `scale` sizes a
footprint; `runner` runs every (scenario, sample, replication) into one results folder,
resumably; `record` writes the experiment's own record (experiment.json).
"""
