"""`python tests/fake_flowsim.py ARGS…` is `flowsim ARGS…` with a fast fake model.

For the tests that kill, interrupt or race the real command in a process of its own.
Pool workers (spawn) run this file as their main module, so they get the fake too.

FAKE_DAY_SECONDS   seconds each simulated day takes (default 0)
FAKE_KILL_AT_HEAD  N: the command SIGKILLs itself just before it moves the manifest of
                   its N-th committed run into place (all that run's tables are placed)
"""

from __future__ import annotations

import os
import signal
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's flowsim


def simulate(config, replication=0, *, record_episodes=False, progress=None):  # noqa: ANN001, ANN201
    import pyarrow as pa

    from flowsim.results import RunOutput

    days = config.run.warmup_days + config.run.horizon_days
    pause = float(os.environ.get("FAKE_DAY_SECONDS", "0"))
    for day in range(1, days + 1):
        time.sleep(pause)
        if progress is not None:
            progress(day, days)
    daily = pa.table({"day": list(range(days)), "value": [replication * 100 + d for d in range(days)]})
    kpis = pa.table(
        {
            "scenario": [config.name],
            "replication": pa.array([replication], pa.int32()),
            "ae_4h_pct": [90.0 + replication / 100],
            "beds_scale": [config.acute.beds_scale],
        }
    )
    meta = {
        "seed": config.run.seed,
        "spawn_key": [replication],
        "replication": replication,
        "scenario": config.name,
    }
    return RunOutput({"daily": daily, "kpis": kpis}, meta)


model = types.ModuleType("flowsim.model")
model.simulate = simulate  # type: ignore[attr-defined]
sys.modules["flowsim.model"] = model


def _kill_before_head(n: int) -> None:
    real = os.replace
    heads = [0]

    def replace(src, dst, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if str(dst).endswith("manifest.json") and "/.staging/" in str(src):
            heads[0] += 1
            if heads[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)

    os.replace = replace  # type: ignore[assignment]


if __name__ == "__main__":
    if os.environ.get("FAKE_KILL_AT_HEAD"):
        _kill_before_head(int(os.environ["FAKE_KILL_AT_HEAD"]))
    from flowsim.cli import main

    raise SystemExit(main())
