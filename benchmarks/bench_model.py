"""Wall time, core events per second and peak memory of one simulated year of a footprint.

    python benchmarks/bench_model.py [CONFIG] [--days N]

Runs warm-up plus N measured days (default: the config's own) on one core and prints the
seconds, the seconds per simulated year, the core's events per second and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from flowsim._core import CORE
from flowsim.config import load_config
from flowsim.metrics.tables import run_tables
from flowsim.model import WholeSystemModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="configs/footprint.yaml")
    parser.add_argument("--days", type=int, default=None, help="measured days after warm-up")
    args = parser.parse_args()
    overrides = {} if args.days is None else {"run.horizon_days": args.days}
    config = load_config(args.config, overrides)
    t0 = time.perf_counter()
    model = WholeSystemModel(config, 0)
    t1 = time.perf_counter()
    c1 = time.process_time()
    model.run()
    t2 = time.perf_counter()
    c2 = time.process_time()
    run_tables(model.recorder.logs())
    t3 = time.perf_counter()
    stats = model.clock.board.stats()
    core_events = int(sum(np.sum(stats[k]) for k in ("granted", "moved", "departed", "lost")))
    days = config.total_days
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"config            {args.config} ({config.population.size:,} people, {days} days incl. warm-up)")
    print(f"core              {CORE}")
    print(f"set-up            {t1 - t0:8.2f} s")
    print(f"day loop          {t2 - t1:8.2f} s  ({(t2 - t1) / days * 365:.2f} s per simulated year)")
    print(f"day loop, CPU     {c2 - c1:8.2f} s  ({(c2 - c1) / days * 365:.2f} CPU s per simulated year)")
    print(f"tables            {t3 - t2:8.2f} s")
    print(f"A&E attendances   {model.emergency.log.n:,}")
    print(f"core events       {core_events:,}  ({core_events / (t2 - t1):,.0f} per second of day loop)")
    print(f"A&E events        {model.emergency.department.events:,}  (the department's calendar)")
    print(f"peak memory       {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
