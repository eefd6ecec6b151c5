"""Provenance: for each run, its config (readable), manifest, seed, code version and the
exact command that reproduces it."""

from __future__ import annotations

import json
from typing import Any

from dash import Input, Output, callback, dcc, html

from flowsim.dashboard.components import current_results, message, page_header, problems_box, table
from flowsim.dashboard.data import Results


def runs_frame(results: Results) -> Any:
    """One row per run: what ran, with which code, and whether it can be used."""
    import pandas as pd

    rows = []
    for run in results.runs:
        m = run.manifest or {}
        commit = m.get("git_commit")
        rows.append(
            {
                "Scenario": run.scenario,
                "Replication": run.replication,
                "Status": "complete" if run.complete else run.problem,
                "Seed": m.get("seed", "–"),
                "flowsim": m.get("flowsim_version", "–"),
                "Code (git)": "–"
                if not commit
                else commit[:10] + (" (uncommitted changes)" if m.get("git_dirty") else ""),
                "Core": m.get("core", "–"),
                "Finished (UTC)": m.get("finished_at", "–"),
                "Run time (s)": m.get("wall_seconds", "–"),
            }
        )
    return pd.DataFrame(rows)


def config_yaml(manifest: dict[str, Any]) -> str:
    """The run's config as YAML, in the schema's order, as a modeller would write it."""
    import yaml

    return str(
        yaml.safe_dump(
            manifest.get("config", {}),
            sort_keys=False,
            allow_unicode=True,
            width=100,
            default_flow_style=None,
        )
    )


def layout(**_: Any) -> html.Div:
    results, error = current_results()
    header = page_header(
        "Provenance",
        "Every run behind these results: its config, seed and code version, and the command that "
        "reproduces it exactly.",
    )
    if results is None or not results.runs:
        return html.Div(
            [header, problems_box(results, error), message(error or "No run in these results yet.", "error")]
        )
    complete = [r for r in results.runs if r.manifest is not None]
    options = [
        {"label": f"{r.scenario}, replication {r.replication}", "value": f"{r.scenario}|{r.replication}"}
        for r in complete
    ]
    return html.Div(
        [
            header,
            problems_box(results, None),
            html.Div(table(runs_frame(results), table_id="provenance-runs"), className="card scroll"),
            html.Label(
                [
                    "Run",
                    dcc.Dropdown(
                        id="provenance-run",
                        options=options,
                        value=options[0]["value"] if options else None,
                        clearable=False,
                    ),
                ],
                className="picker picker-wide",
            ),
            html.Div(content(results, options[0]["value"] if options else None), id="provenance-content"),
        ]
    )


@callback(
    Output("provenance-content", "children"), Input("provenance-run", "value"), prevent_initial_call=True
)
def update(choice: str | None) -> Any:
    results, error = current_results()
    if results is None:
        return message(error or "No complete run to show.", "warning")
    return content(results, choice)


def content(results: Results, choice: str | None) -> Any:
    """One run's provenance: the command, the facts, the config and the manifest."""
    if not choice:
        return message("No run with a manifest to show.", "warning")
    scenario, _, replication = choice.rpartition("|")
    run = next(
        (r for r in results.runs if r.scenario == scenario and str(r.replication) == replication), None
    )
    if run is None or run.manifest is None:
        return message(f"Run {choice!r} is no longer in the results.", "warning")
    m = run.manifest
    commit = m.get("git_commit")
    facts = [
        ("Seed", str(m.get("seed"))),
        ("Config sha256", str(m.get("config_sha256"))),
        ("flowsim version", str(m.get("flowsim_version"))),
        (
            "Code version (git commit)",
            f"{commit}{' with uncommitted changes' if m.get('git_dirty') else ''}"
            if commit
            else "not a git checkout",
        ),
        ("Core", str(m.get("core"))),
        ("Python", str(m.get("python"))),
        ("Packages", ", ".join(f"{k} {v}" for k, v in sorted((m.get("packages") or {}).items()))),
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.H3("Reproduce this run"),
                    html.Pre(run.reproduce_command, id="provenance-command", className="command"),
                    html.P(
                        "Re-runs the same replication from the config in its manifest and checks every file "
                        f"byte for byte{f' (check out commit {commit[:10]} first for the same code)' if commit else ''}.",
                        className="explanation",
                    ),
                    html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))], className="facts"),
                ],
                className="card",
            ),
            html.Div([html.H3("Config"), html.Pre(config_yaml(m), className="config")], className="card"),
            html.Details(
                [
                    html.Summary("Manifest (JSON)"),
                    html.Pre(
                        json.dumps({k: v for k, v in m.items() if k != "config"}, indent=2),
                        className="config",
                    ),
                ],
                className="card",
            ),
        ]
    )
