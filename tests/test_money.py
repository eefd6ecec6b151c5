"""Money, two views, one sum: providers' costs (fixed and variable) and payments between
organisations under each rule. Unit tests on hand-made logs, then short paired runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowsim.config import ConfigError, load_config
from flowsim.metrics.kpis import kpis
from flowsim.metrics.tables import run_tables
from flowsim.model import simulate
from flowsim.vocabulary import ACCOUNT_HOLDERS, COMMISSIONERS, FUNDER_OF
from tests.test_metrics import make_logs

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
POOLED = {"payments.budget": "pooled"}


def _tables(days=4, **kw):
    return {name: t.to_pandas() for name, t in run_tables(make_logs(days, **kw)).items()}


def _pooled(logs):
    """The same logs, paid from one system budget."""
    payments = logs.config.payments.model_copy(update={"budget": "pooled"})
    return type(logs)(**{**logs.__dict__, "config": logs.config.model_copy(update={"payments": payments})})


def _logs_with_activity(days=4, interventions=()):
    """Beds open and in use, attendances, admissions: enough for every rule to pay something."""
    from flowsim.vocabulary import Origin

    routes = [
        dict(
            person=i,
            origin=int(Origin.AE_ADMISSION),
            site=0,
            ward_pool=0,
            bed_pool=0,
            request_h=10.0 + 24 * i,
            bed_start_h=11.0 + 24 * i,
            fit_h=20.0 + 24 * i,
            bed_end_h=30.0 + 24 * i,
        )
        for i in range(days - 1)
    ]
    return make_logs(
        days,
        attendances=[dict(arrival_h=1.0 + 24 * d, departure_h=2.0 + 24 * d) for d in range(days)],
        routes=routes,
        capacity={"acute_north": 90, "community_beds": 38, "care_home": 630, "home_care": 680},
        occupied_hours={"acute_north": 80 * 24.0, "care_home": 600 * 24.0, "home_care": 650 * 24.0},
        interventions=interventions,
    )


# -- one sum -------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("budget", ["contracts", "pooled"])
def test_payments_between_organisations_net_to_zero_every_day(budget):
    logs = _logs_with_activity()
    if budget == "pooled":
        logs = _pooled(logs)
    t = {name: tbl.to_pandas() for name, tbl in run_tables(logs).items()}
    flows, finance, spend = t["flows"], t["finance"], t["spend"]
    inside = flows[~flows.payer.isin(set(FUNDER_OF.values()))]
    assert inside.pounds.sum() > 0
    paid = inside.groupby("date").pounds.sum()
    received = finance.groupby("date").income.sum()
    assert paid.to_numpy() == pytest.approx(received.to_numpy(), rel=1e-12)
    assert finance.groupby("date").payments.sum().to_numpy() == pytest.approx(received.to_numpy(), rel=1e-12)
    # So the organisations' surpluses add up to the budgets less the system's cost.
    system = finance.groupby("date")[["surplus", "allocation"]].sum()
    cost = spend.groupby("date").pounds.sum()
    assert system.surplus.to_numpy() == pytest.approx((system.allocation - cost).to_numpy(), rel=1e-9)
    assert set(finance.organisation) == set(ACCOUNT_HOLDERS)


@pytest.mark.unit
def test_the_pool_pays_every_provider_its_cost():
    logs = _pooled(_logs_with_activity())
    t = {name: tbl.to_pandas() for name, tbl in run_tables(logs).items()}
    finance = t["finance"].set_index(["date", "organisation"])
    providers = t["spend"].organisation.unique()
    for org in providers:
        if org in COMMISSIONERS:
            continue  # a commissioner's own provision is paid too, but it also pools its budget
        assert finance.loc[(slice(None), org), "surplus"].to_numpy() == pytest.approx(0.0, abs=1e-6)
    assert set(t["flows"].rule) == {"allocation", "pooled"}


@pytest.mark.unit
def test_tariff_pays_the_acute_trust_per_attendance_and_spell():
    logs = _logs_with_activity()
    t = {name: tbl.to_pandas() for name, tbl in run_tables(logs).items()}
    flows = t["flows"]
    tariff = logs.config.payments.tariff
    ae = flows[(flows.rule == "tariff") & (flows.item == "ae_attendance")]
    assert (ae.payer == "ccg").all() and (ae.payee == "acute_trust").all()
    assert ae.pounds.tolist() == pytest.approx([tariff.ae_attendance] * 4)
    spells = flows[flows.item == "non_elective_spell"].pounds.tolist()
    assert spells == pytest.approx([tariff.non_elective_spell] * 3 + [0.0])
    care = flows[(flows.rule == "purchase") & (flows.item == "care_home_day")]
    assert (care.payer == "local_authority").all() and (care.payee == "care_providers").all()
    assert care.pounds.tolist() == pytest.approx([600 * logs.config.payments.purchase.care_home_day] * 4)


@pytest.mark.unit
def test_the_flows_table_does_not_depend_on_the_order_contracts_are_written_in():
    """A config read back from a manifest has its keys sorted: `reproduce` must match."""
    logs = _logs_with_activity()
    contracts = logs.config.payments.contracts
    backwards = dict(reversed(list(contracts.items())))
    payments = logs.config.payments.model_copy(update={"contracts": backwards})
    other = type(logs)(**{**logs.__dict__, "config": logs.config.model_copy(update={"payments": payments})})
    assert list(other.config.payments.contracts) != list(contracts)
    assert run_tables(other)["flows"].equals(run_tables(logs)["flows"])


# -- the cost view ---------------------------------------------------------------------------


@pytest.mark.unit
def test_a_place_costs_its_fixed_part_while_open_and_its_variable_part_while_in_use():
    costs = load_config(CONFIGS / "small.yaml").costs
    open_beds = [90, 90, 72, 72]
    t = _tables(4, capacity={"acute_north": open_beds}, occupied_hours={"acute_north": 70 * 24.0})
    beds = t["spend"][t["spend"].item == "acute_bed_day"].set_index("part")
    assert beds.loc["fixed"].pounds.tolist() == pytest.approx(
        [n * costs.acute_bed_day.fixed_per_place_day for n in open_beds]
    )
    assert beds.loc["variable"].pounds.tolist() == pytest.approx([70 * costs.acute_bed_day.unit_cost] * 4)
    assert (beds.organisation == "acute_trust").all()


@pytest.mark.unit
def test_a_bed_closed_under_a_patient_costs_until_the_patient_leaves():
    """A cut evicts no one: beds in use above the new capacity stay open, and cost."""
    costs = load_config(CONFIGS / "small.yaml").costs
    t = _tables(
        3,
        capacity={"acute_north": [90, 60, 60]},
        occupied_hours={"acute_north": [80 * 24.0, 70 * 24.0, 50 * 24.0]},
    )
    beds = t["spend"][(t["spend"].item == "acute_bed_day") & (t["spend"].part == "fixed")]
    assert beds.pounds.tolist() == pytest.approx(
        [n * costs.acute_bed_day.fixed_per_place_day for n in (90, 70, 60)]
    )


@pytest.mark.unit
def test_a_new_service_costs_its_provider_from_its_start_and_its_payer_pays_for_it():
    lever = {
        "kind": "running_cost",
        "name": "rapid response team",
        "payer": "ccg",
        "provider": "community_provider",
        "annual_cost": 3650.0,
        "start_day": 2,
    }
    t = _tables(4, interventions=[lever])
    team = t["spend"][t["spend"].intervention == "rapid response team"]
    assert (team.organisation == "community_provider").all() and (team.part == "fixed").all()
    assert team.pounds.tolist() == pytest.approx([0.0, 0.0, 10.0, 10.0])
    paid = t["flows"][t["flows"].intervention == "rapid response team"]
    assert (paid.payer == "ccg").all() and (paid.payee == "community_provider").all()
    assert (paid.rule == "commission").all()
    assert paid.pounds.tolist() == pytest.approx([0.0, 0.0, 10.0, 10.0])


@pytest.mark.unit
def test_kpis_per_organisation_match_the_finance_table():
    logs = _logs_with_activity()
    t = {name: tbl.to_pandas() for name, tbl in run_tables(logs).items()}
    k = kpis(logs)
    by_org = t["finance"].groupby("organisation").sum(numeric_only=True)
    for org in ACCOUNT_HOLDERS:
        assert k[f"surplus_{org}"] == pytest.approx(by_org.loc[org, "surplus"])
        assert k[f"income_{org}"] == pytest.approx(by_org.loc[org, "allocation"] + by_org.loc[org, "income"])
        assert k[f"payments_{org}"] == pytest.approx(by_org.loc[org, "payments"])
    assert k["spend_total"] == pytest.approx(t["spend"].pounds.sum())


# -- bad payment parameters ------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"payments.contracts.community_provider.per_person_a_year": None},
            "payments.contracts.community_provider.per_person_a_year: a block contract needs per_person_a_year",
        ),
        (
            {"payments.contracts.community_provider": {"rule": "tariff", "per_person_a_year": None}},
            "payments.contracts.community_provider.rule: community_provider provides nothing that payments.tariff prices",
        ),
        (
            {"payments.contracts.acute_trust.per_person_a_year": 100.0},
            "payments.contracts.acute_trust.per_person_a_year: only a block contract has one, not tariff",
        ),
        (
            {"payments.contracts.ccg": {"payer": "ccg", "rule": "tariff"}},
            "ccg is a commissioner",
        ),
        ({"payments.budget": "pool"}, "payments.budget: Input should be 'contracts' or 'pooled'"),
        ({"payments.tariff.elective_spell": -1.0}, "payments.tariff.elective_spell: Input should be greater"),
        (
            {"payments.contracts.care_providers": {"payer": "nhs_england", "rule": "purchase"}},
            "payments.contracts.care_providers.payer: Input should be 'ccg' or 'local_authority'",
        ),
    ],
)
def test_bad_payment_parameters_get_one_line(overrides, message):
    with pytest.raises(ConfigError) as info:
        load_config(CONFIGS / "small.yaml", overrides)
    text = str(info.value)
    assert message in text and "\n" not in text


@pytest.mark.unit
def test_a_provider_without_a_contract_is_refused(tmp_path):
    import yaml

    data = load_config(CONFIGS / "small.yaml").model_dump(mode="json", exclude_none=True)
    del data["payments"]["contracts"]["care_providers"]
    path = tmp_path / "no_contract.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(
        ConfigError, match="no contract for care_providers, which provides home_care_day, care_home_day"
    ):
        load_config(path)


# -- paired runs -----------------------------------------------------------------------------


def _small(overrides=None, interventions=(), days=15):
    return load_config(
        CONFIGS / "small.yaml",
        {
            "run.warmup_days": 5,
            "run.horizon_days": days,
            "interventions": list(interventions),
            **(overrides or {}),
        },
    )


@pytest.mark.integration
@pytest.mark.slow
def test_the_system_cost_is_the_same_under_every_payment_rule():
    """The rule decides who gains and who loses, not how much is spent."""
    block_acute = {
        "payments.contracts.acute_trust": {"payer": "ccg", "rule": "block", "per_person_a_year": 350.0}
    }
    runs = [simulate(_small(o), 3) for o in (None, POOLED, block_acute)]
    spends = [out.tables["spend"] for out in runs]
    assert spends[1].equals(spends[0]) and spends[2].equals(spends[0])
    totals = [out.tables["kpis"].column("spend_total")[0].as_py() for out in runs]
    assert totals[0] == totals[1] == totals[2]
    for out in runs:  # and in a real run, too, payments between organisations net to zero each day
        finance = out.tables["finance"].to_pandas().groupby("date")[["income", "payments"]].sum()
        assert finance.income.to_numpy() == pytest.approx(finance.payments.to_numpy(), rel=1e-12)
    surpluses = [out.tables["kpis"].to_pandas().iloc[0] for out in runs]
    # ... but the acute trust's result differs, and the system's surplus does not.
    assert surpluses[0]["surplus_acute_trust"] != surpluses[1]["surplus_acute_trust"]
    system = [sum(s[f"surplus_{o}"] for o in ACCOUNT_HOLDERS) for s in surpluses]
    assert system[1] == pytest.approx(system[0], rel=1e-9) and system[2] == pytest.approx(system[0], rel=1e-9)


@pytest.mark.integration
@pytest.mark.slow
def test_a_bed_cut_saves_fixed_cost_only_once_the_beds_close_and_double_runs_its_replacement():
    cut = {
        "kind": "capacity",
        "name": "close beds",
        "pool": "acute",
        "relative_change": -0.1,
        "start_day": 10,
    }
    team = {
        "kind": "running_cost",
        "name": "community team",
        "payer": "ccg",
        "provider": "community_provider",
        "annual_cost": 365_000.0,
        "start_day": 6,
    }
    base = simulate(_small(), 0)
    plan = simulate(_small(interventions=[cut, team]), 0)
    costs = _small().costs

    def by_day(out, org, item=None, part=None):
        s = out.tables["spend"].to_pandas()
        s = s[
            (s.organisation == org)
            & ((s.item == item) if item else True)
            & ((s.part == part) if part else True)
        ]
        return s.groupby("date").pounds.sum().to_numpy()

    fixed = by_day(plan, "acute_trust", "acute_bed_day", "fixed") - by_day(
        base, "acute_trust", "acute_bed_day", "fixed"
    )
    assert fixed[:10] == pytest.approx(np.zeros(10))
    beds = sum(s.beds for s in _small().acute.sites)
    assert fixed[10:].mean() == pytest.approx(-0.1 * beds * costs.acute_bed_day.fixed_per_place_day, rel=0.05)
    extra = by_day(plan, "community_provider", "running_cost")
    assert extra[:6] == pytest.approx(np.zeros(6))
    assert extra[6:] == pytest.approx(np.full(len(extra) - 6, 1000.0))  # double running from day 6


@pytest.mark.integration
@pytest.mark.slow
def test_fewer_admissions_cut_the_acute_trusts_tariff_income_faster_than_its_cost():
    """A demand fall of 10%: under tariff the trust loses the price of each spell, but saves
    only its variable cost; the CCG keeps the difference."""
    less = {"kind": "demand", "name": "fewer attendances", "relative_change": -0.1, "start_day": 0}
    base, fewer = (
        simulate(_small(interventions=i, days=25), 1).tables["kpis"].to_pandas().iloc[0] for i in ([], [less])
    )
    assert fewer["emergency_admissions"] < base["emergency_admissions"]
    income_fall = base["income_acute_trust"] - fewer["income_acute_trust"]
    cost_fall = base["spend_acute_trust"] - fewer["spend_acute_trust"]
    assert income_fall > 0 and cost_fall > 0
    assert income_fall > 2 * cost_fall
    assert fewer["surplus_acute_trust"] < base["surplus_acute_trust"]
    assert fewer["surplus_ccg"] > base["surplus_ccg"]
    # The system as a whole saves only the variable cost: less than the trust's lost income.
    assert 0 < base["spend_total"] - fewer["spend_total"] < income_fall


@pytest.mark.unit
def test_the_one_system_budget_scenario_changes_only_who_pays():
    pooled = load_config(CONFIGS / "scenarios" / "one_system_budget.yaml")
    footprint = load_config(CONFIGS / "footprint.yaml")
    assert pooled.payments.budget == "pooled"
    assert pooled.model_copy(
        update={"name": footprint.name, "description": footprint.description}
    ).model_dump(exclude={"payments"}) == footprint.model_dump(exclude={"payments"})


@pytest.mark.unit
def test_a_deficit_reads_as_minus_pounds():
    from flowsim.metrics.registry import kpi

    surplus = kpi("surplus_acute_trust")
    assert [surplus.format(v) for v in (-239_417.2, -0.2, 1_234.5)] == ["-£239,417", "£0", "£1,234"]
