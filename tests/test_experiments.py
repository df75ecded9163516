"""Online experiments: assignment, logging per variant, the report and its statistics."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scipy.stats import binomtest, chi2_contingency

from actions.conversation import Need, State
from actions.services import Services
from actions.shop import ActionShop
from shopkeeper_cli.main import main as cli
from store.db import create_schema, make_engine
from store.experiments import (
    DEFAULT_EXPERIMENTS_FILE,
    Experiment,
    ExperimentError,
    Variant,
    active_experiment,
    experiment_report,
    load_experiments,
    two_proportion_p_value,
    wilson_interval,
)
from store.models import InteractionKind
from store.profiles import ProfileStore
from tests.actions_support import cards, entity, make_services, run, shop_tracker, state_of

SPLIT = Experiment("split", (Variant("control", 1, personalised=False), Variant("personal", 1)))


def test_assignment_is_deterministic_and_follows_the_weights() -> None:
    again = Experiment("split", (Variant("control", 1, personalised=False), Variant("personal", 1)))
    senders = [f"web-{i:05d}" for i in range(4000)]
    assert [SPLIT.assign(s) for s in senders] == [again.assign(s) for s in senders]
    share = sum(SPLIT.assign(s).name == "control" for s in senders) / len(senders)
    assert 0.47 < share < 0.53
    lopsided = Experiment("lopsided", (Variant("a", 9), Variant("b", 1)))
    assert 0.87 < sum(lopsided.assign(s).name == "a" for s in senders) / len(senders) < 0.93
    renamed = Experiment("other", SPLIT.variants)  # another experiment reshuffles independently
    assert [SPLIT.assign(s) for s in senders] != [renamed.assign(s) for s in senders]


def test_definitions_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="at least two"):
        Experiment("solo", (Variant("only", 1),))
    with pytest.raises(ExperimentError, match="positive"):
        Experiment("bad", (Variant("a", 1), Variant("b", 0)))
    with pytest.raises(ExperimentError, match="repeats"):
        Experiment("dup", (Variant("a", 1), Variant("a", 1)))
    with pytest.raises(ExperimentError, match="longer than 40"):
        Experiment("x" * 35, (Variant("control", 1), Variant("treatment", 1)))
    broken = tmp_path / "broken.toml"
    broken.write_text("[experiments.e]\nvariants = 'none'\n")
    with pytest.raises(ExperimentError, match="no list of variants"):
        load_experiments(broken)
    broken.write_text("[experiments\n")
    with pytest.raises(ExperimentError, match="cannot read"):
        load_experiments(broken)
    with pytest.raises(ExperimentError, match="not defined"):
        active_experiment({"SHOPKEEPER_EXPERIMENT": "nope"})
    assert active_experiment({}) is None
    shipped = active_experiment({"SHOPKEEPER_EXPERIMENT": "personalisation"})
    assert shipped is not None and [v.personalised for v in shipped.variants] == [False, True]
    assert set(load_experiments(DEFAULT_EXPERIMENTS_FILE)) == {"personalisation"}


def test_statistics_match_an_independent_computation() -> None:
    for successes, trials in [(37, 120), (0, 15), (15, 15), (1, 2)]:
        expected = binomtest(successes, trials).proportion_ci(method="wilson")
        assert wilson_interval(successes, trials) == pytest.approx((expected.low, expected.high), abs=1e-5)
    for a, n, b, m in [(45, 100, 60, 100), (12, 80, 9, 95), (300, 1000, 270, 1000)]:
        _, p, _, _ = chi2_contingency([[a, n - a], [b, m - b]], correction=False)
        assert two_proportion_p_value(a, n, b, m) == pytest.approx(p, rel=1e-9)
    assert two_proportion_p_value(0, 0, 1, 2) is None


def test_interactions_carry_the_variant_and_the_report_counts_them() -> None:
    engine = make_engine("sqlite://")
    create_schema(engine)
    profiles = ProfileStore(engine, variant_of=SPLIT.label_for)
    control = [s for s in (f"c-{i}" for i in range(200)) if SPLIT.assign(s).name == "control"][:4]
    personal = [s for s in (f"c-{i}" for i in range(200)) if SPLIT.assign(s).name == "personal"][:3]
    impression = [(InteractionKind.IMPRESSION, f"SKU-{k}", k) for k in range(1, 4)]
    for index, sender in enumerate(control):
        profiles.record_many(sender, impression, request_id=f"r-c{index}")
    profiles.record(control[0], InteractionKind.LIKE, item_id="SKU-1", request_id="r-c0")
    profiles.record(control[0], InteractionKind.LIKE, item_id="SKU-2", request_id="r-c0")  # still one list
    for index, sender in enumerate(personal):
        profiles.record_many(sender, impression, request_id=f"r-p{index}")
        profiles.record_many(sender, impression, request_id=f"r-p{index}b")
        profiles.record(sender, InteractionKind.LIKE, item_id="SKU-1", request_id=f"r-p{index}")
        profiles.record(sender, InteractionKind.CHOICE, item_id="SKU-1", request_id=f"r-p{index}")
    profiles.record(personal[0], InteractionKind.SATISFACTION, detail={"satisfied": True})
    profiles.record(personal[1], InteractionKind.SATISFACTION, detail={"satisfied": False})

    reports = experiment_report(engine, SPLIT)
    assert [r.label for r in reports] == ["split/control", "split/personal"]
    c, p = reports
    assert (c.customers, c.click_through.successes, c.click_through.trials) == (4, 1, 4)
    assert (c.acceptance.successes, c.acceptance.trials, c.satisfaction.trials) == (0, 4, 0)
    assert (p.customers, p.click_through.successes, p.click_through.trials) == (3, 3, 6)
    assert (p.acceptance.successes, p.acceptance.trials) == (3, 3)
    assert (p.satisfaction.successes, p.satisfaction.trials) == (1, 2)
    assert c.click_through.p_value is None
    assert p.click_through.p_value == pytest.approx(two_proportion_p_value(3, 6, 1, 4))
    assert p.click_through.low < 0.5 < p.click_through.high
    by_name = experiment_report(engine, "split")  # variants read back from the data
    assert [r.label for r in by_name] == ["split/control", "split/personal"]


def test_the_control_arm_gets_the_unpersonalised_ranking_and_logs_its_variant() -> None:
    services = dataclasses.replace(make_services(), experiment=SPLIT)
    services.profiles.variant_of = SPLIT.label_for
    in_control = next(s for s in (f"x-{i}" for i in range(100)) if SPLIT.assign(s).name == "control")
    in_personal = next(s for s in (f"x-{i}" for i in range(100)) if SPLIT.assign(s).name == "personal")
    plain_services = make_services()
    asking = State(need=Need(scope=("Armchairs",)), questions=3)

    def ranking(svc: Services, sender: str, state: State) -> list[str]:
        dispatcher, _ = run(ActionShop(lambda: svc), shop_tracker(
            "armchairs", "request_recommendation", [entity("category", "armchairs")], state, sender=sender))
        return [i["id"] for i in cards(dispatcher)]

    liked = ranking(plain_services, "l", asking)
    having_liked = State(need=asking.need, liked=tuple(liked[:1]), questions=3)
    neutral = ranking(plain_services, "n", asking)
    assert ranking(services, in_control, having_liked) == neutral
    assert ranking(services, in_personal, having_liked) == ranking(plain_services, "n2", having_liked) != neutral

    shown = State(need=asking.need, lists=(tuple(neutral),), seen=tuple(neutral))
    _, events = run(ActionShop(lambda: services), shop_tracker(
        "the first", "choose_item", [entity("ordinal", "first")], shown, sender=in_control,
        slots={"request_id": "r-1"}))
    _, events = run(ActionShop(lambda: services), shop_tracker(
        "yes", "affirm", state=state_of(events), sender=in_control, slots={"awaiting": "satisfaction"}))
    report = {r.label: r for r in experiment_report(services.profiles.engine, SPLIT)}
    control = report["split/control"]
    assert control.acceptance.successes == 1 and control.satisfaction.successes == 1
    assert report["split/personal"].customers == 1


def test_report_command_prints_the_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(url)
    create_schema(engine)
    experiment = load_experiments(DEFAULT_EXPERIMENTS_FILE)["personalisation"]
    profiles = ProfileStore(engine, variant_of=experiment.label_for)
    profiles.record_many("web-a", [(InteractionKind.IMPRESSION, "SKU-1", 1)], request_id="r-a")
    engine.dispose()
    assert cli(["experiments", "report", "--experiment", "personalisation", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "personalisation/control" in out and "personalisation/personalised" in out and "Wilson" in out
    assert cli(["experiments", "report", "--experiment", "personalisation", "--db", url, "--json"]) == 0
    assert '"click_through"' in capsys.readouterr().out
    assert cli(["experiments", "report", "--experiment", "missing", "--db", url]) == 2
    assert "not defined" in capsys.readouterr().err
