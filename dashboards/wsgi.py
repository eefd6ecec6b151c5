"""WSGI entry of the flowsim dashboard, for a production server.

    FLOWSIM_RESULTS=results/demo waitress-serve --listen 127.0.0.1:8050 dashboards.wsgi:server
    FLOWSIM_RESULTS=results/demo gunicorn --bind 127.0.0.1:8050 dashboards.wsgi:server

Run from the repository's root (so that `dashboards` is importable). FLOWSIM_RESULTS names
the results folder; FLOWSIM_TARGETS, optional, holds targets for the overview separated by
semicolons ('acute_occupancy_mean<=92%;spend_total<=baseline'). A folder that is not a
flowsim results folder stops the server at start with one line naming it.
"""

from __future__ import annotations

import os
import sys

from flowsim.dashboard import create_app
from flowsim.dashboard.data import check_results_folder
from flowsim.results import ResultsError

results = os.environ.get("FLOWSIM_RESULTS")
if not results:
    sys.exit("error: set FLOWSIM_RESULTS to a results folder (the --out of `flowsim run`)")
try:
    check_results_folder(results)
except ResultsError as exc:
    sys.exit(f"error: FLOWSIM_RESULTS: {exc}")

targets = [t.strip() for t in os.environ.get("FLOWSIM_TARGETS", "").split(";") if t.strip()]
app = create_app(results, targets)
server = app.server
