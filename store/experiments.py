"""Online experiments: deterministic variant assignment and a per-variant report.

An experiment splits customers between variants by a hash of its name and the
sender id, so a customer stays in one variant across turns, restarts and
replicas without anything being stored. Every interaction the actions log
(impressions, likes, choices, satisfaction answers) carries the variant label
``"<experiment>/<variant>"``; the report reads them back:

* click-through: the share of recommendation lists that got at least one 👍;
* acceptance: the share of customers shown recommendations who chose an item;
* satisfaction: the share of "did that solve it?" answers that were yes;

customers who did not agree to be remembered are counted by pseudonym
(:mod:`store.pseudonyms`), never by sender id;

each with a Wilson 95 % interval and a two-sided two-proportion z-test against
the first (control) variant.

Experiments are defined in ``data/experiments.toml``; ``SHOPKEEPER_EXPERIMENT``
names the one that runs (none by default).

>>> experiment = Experiment("ranking", (Variant("control", 0.5, personalised=False), Variant("personal", 0.5)))
>>> experiment.assign("web-1") == experiment.assign("web-1")
True
>>> shares = [experiment.assign(f"web-{i}").name for i in range(2000)]
>>> 0.45 < shares.count("control") / 2000 < 0.55
True
"""

from __future__ import annotations

import hashlib
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, and_, cast, distinct, func, select
from sqlalchemy.orm import aliased

from retrieval.paths import PROJECT_ROOT
from store.errors import ExperimentError
from store.models import Interaction, InteractionKind

__all__ = [
    "DEFAULT_EXPERIMENTS_FILE",
    "Experiment",
    "ExperimentError",
    "Proportion",
    "Variant",
    "VariantReport",
    "active_experiment",
    "experiment_report",
    "format_report",
    "load_experiments",
    "reports_in",
    "two_proportion_p_value",
    "wilson_interval",
]

DEFAULT_EXPERIMENTS_FILE = PROJECT_ROOT / "data" / "experiments.toml"
#: ``Interaction.variant`` holds ``"<experiment>/<variant>"`` in at most this many characters.
MAX_LABEL = 40


@dataclass(frozen=True)
class Variant:
    """One arm of an experiment.

    Attributes:
        name: short name, e.g. ``control``.
        weight: share of customers (relative to the other variants' weights).
        personalised: whether the ranking may use the customer's likes and profile.
    """

    name: str
    weight: float
    personalised: bool = True


@dataclass(frozen=True)
class Experiment:
    """Named variants; the first is the control the others are compared with."""

    name: str
    variants: tuple[Variant, ...]

    def __post_init__(self) -> None:
        if len(self.variants) < 2:
            raise ExperimentError(f"experiment {self.name!r} needs at least two variants")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ExperimentError(f"experiment {self.name!r} repeats a variant name")
        if any(v.weight <= 0 or not math.isfinite(v.weight) for v in self.variants):
            raise ExperimentError(f"experiment {self.name!r}: every weight must be a positive number")
        too_long = [self.label(v) for v in self.variants if len(self.label(v)) > MAX_LABEL]
        if too_long:
            raise ExperimentError(f"labels longer than {MAX_LABEL} characters: {', '.join(too_long)}")

    def label(self, variant: Variant) -> str:
        """What interactions store for a variant."""
        return f"{self.name}/{variant.name}"

    def assign(self, sender_id: str) -> Variant:
        """The variant of a customer: the same for the same sender id, everywhere, always."""
        digest = hashlib.sha256(f"{self.name}:{sender_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * sum(v.weight for v in self.variants)
        for variant in self.variants:
            point -= variant.weight
            if point < 0:
                return variant
        return self.variants[-1]

    def label_for(self, sender_id: str) -> str:
        """The stored label of a customer's variant."""
        return self.label(self.assign(sender_id))


def load_experiments(path: Path = DEFAULT_EXPERIMENTS_FILE) -> dict[str, Experiment]:
    """Read experiment definitions from TOML.

    Format::

        [experiments.personalisation]
        variants = [
          { name = "control", weight = 0.5, personalised = false },
          { name = "personalised", weight = 0.5 },
        ]

    Raises:
        ExperimentError: on a file or definition that cannot run.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ExperimentError(f"cannot read experiments from {path}: {error}") from error
    experiments: dict[str, Experiment] = {}
    for name, body in (raw.get("experiments") or {}).items():
        variants = body.get("variants") if isinstance(body, dict) else None
        if not isinstance(variants, list):
            raise ExperimentError(f"experiment {name!r} in {path} has no list of variants")
        try:
            experiments[name] = Experiment(name, tuple(
                Variant(str(v["name"]), float(v.get("weight", 1.0)), bool(v.get("personalised", True)))
                for v in variants
            ))
        except (KeyError, TypeError, ValueError) as error:
            raise ExperimentError(f"experiment {name!r} in {path}: {error}") from error
    return experiments


def active_experiment(environ: Mapping[str, str] | None = None) -> Experiment | None:
    """The experiment named by ``SHOPKEEPER_EXPERIMENT`` (``None`` when unset).

    ``SHOPKEEPER_EXPERIMENTS_FILE`` overrides the definitions file.

    Raises:
        ExperimentError: when the named experiment is not defined.
    """
    env = os.environ if environ is None else environ
    name = env.get("SHOPKEEPER_EXPERIMENT", "").strip()
    if not name:
        return None
    path = Path(env.get("SHOPKEEPER_EXPERIMENTS_FILE") or DEFAULT_EXPERIMENTS_FILE)
    experiments = load_experiments(path)
    if name not in experiments:
        raise ExperimentError(f"SHOPKEEPER_EXPERIMENT={name!r} is not defined in {path} "
                              f"(defined: {', '.join(sorted(experiments)) or 'none'})")
    return experiments[name]


# ---- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    """``successes`` out of ``trials`` with its Wilson 95 % interval and the p-value against control."""

    successes: int
    trials: int
    low: float
    high: float
    p_value: float | None = None

    @property
    def rate(self) -> float | None:
        """The observed share (``None`` with no trials)."""
        return self.successes / self.trials if self.trials else None


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    >>> [round(x, 3) for x in wilson_interval(8, 10)]
    [0.49, 0.943]
    >>> wilson_interval(0, 0)
    (0.0, 1.0)
    """
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_p_value(a_successes: int, a_trials: int, b_successes: int, b_trials: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test (``None`` when undefined).

    >>> round(two_proportion_p_value(45, 100, 60, 100), 4)
    0.0337
    >>> two_proportion_p_value(5, 10, 5, 10)
    1.0
    """
    if a_trials <= 0 or b_trials <= 0:
        return None
    pooled = (a_successes + b_successes) / (a_trials + b_trials)
    variance = pooled * (1 - pooled) * (1 / a_trials + 1 / b_trials)
    if variance <= 0:
        return None if a_successes / a_trials == b_successes / b_trials and pooled in (0.0, 1.0) else 1.0
    z = (a_successes / a_trials - b_successes / b_trials) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


def _proportion(successes: int, trials: int, control: tuple[int, int] | None) -> Proportion:
    low, high = wilson_interval(successes, trials)
    p_value = two_proportion_p_value(successes, trials, *control) if control else None
    return Proportion(successes, trials, low, high, p_value)


@dataclass(frozen=True)
class VariantReport:
    """What one variant did."""

    label: str
    customers: int
    click_through: Proportion
    acceptance: Proportion
    satisfaction: Proportion

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        def part(p: Proportion) -> dict[str, Any]:
            return {"successes": p.successes, "trials": p.trials, "rate": p.rate, "ci95": [p.low, p.high],
                    "p_value": p.p_value}
        return {"variant": self.label, "customers": self.customers, "click_through": part(self.click_through),
                "acceptance": part(self.acceptance), "satisfaction": part(self.satisfaction)}


def _subject() -> Any:
    """Who an interaction is about: the customer who consented, else the pseudonym it was logged under.

    A pseudonym rotates (:mod:`store.pseudonyms`), so a customer who did not consent and
    came back in another period counts twice; customers who consented count once.
    """
    return func.coalesce(cast(Interaction.customer_id, String), Interaction.pseudonym)


def _counts(engine: Engine, label: str) -> dict[str, int]:
    impressions = aliased(Interaction)
    likes = aliased(Interaction)
    with engine.connect() as connection:
        def scalar(statement: Any) -> int:
            return int(connection.scalar(statement) or 0)

        of = Interaction.variant == label
        lists = scalar(select(func.count(distinct(Interaction.request_id))).where(
            of, Interaction.kind == InteractionKind.IMPRESSION))
        liked_lists = scalar(
            select(func.count(distinct(impressions.request_id)))
            .join(likes, and_(likes.request_id == impressions.request_id, likes.kind == InteractionKind.LIKE))
            .where(impressions.variant == label, impressions.kind == InteractionKind.IMPRESSION)
        )
        shown_customers = scalar(select(func.count(distinct(_subject()))).where(
            of, Interaction.kind == InteractionKind.IMPRESSION))
        choosers = scalar(select(func.count(distinct(_subject()))).where(
            of, Interaction.kind == InteractionKind.CHOICE))
        answers = connection.execute(select(Interaction.detail).where(
            of, Interaction.kind == InteractionKind.SATISFACTION)).scalars().all()
        customers = scalar(select(func.count(distinct(_subject()))).where(of))
    satisfied = sum(1 for detail in answers if isinstance(detail, dict) and detail.get("satisfied") is True)
    return {"lists": lists, "liked_lists": liked_lists, "shown_customers": shown_customers,
            "choosers": min(choosers, shown_customers), "answers": len(answers), "satisfied": satisfied,
            "customers": customers}


def experiment_report(
    engine: Engine, experiment: Experiment | str, variants: Sequence[str] = ()
) -> list[VariantReport]:
    """Per-variant click-through, acceptance and satisfaction, each compared with the first variant.

    Args:
        engine: our database.
        experiment: the definition, or just its name (then the variants come from the data, sorted,
            unless ``variants`` lists them; the first is the control).
        variants: variant names in order, when ``experiment`` is a name.
    """
    if isinstance(experiment, Experiment):
        labels = [experiment.label(v) for v in experiment.variants]
    elif variants:
        labels = [f"{experiment}/{v}" for v in variants]
    else:
        with engine.connect() as connection:
            labels = sorted(str(v) for v in connection.execute(
                select(Interaction.variant).where(Interaction.variant.like(f"{experiment}/%")).distinct()
            ).scalars())
    counts = [_counts(engine, label) for label in labels]
    reports: list[VariantReport] = []
    control = counts[0] if counts else None
    for index, (label, c) in enumerate(zip(labels, counts, strict=True)):
        versus = None if index == 0 or control is None else control
        reports.append(VariantReport(
            label,
            c["customers"],
            _proportion(c["liked_lists"], c["lists"], (versus["liked_lists"], versus["lists"]) if versus else None),
            _proportion(c["choosers"], c["shown_customers"],
                        (versus["choosers"], versus["shown_customers"]) if versus else None),
            _proportion(c["satisfied"], c["answers"], (versus["satisfied"], versus["answers"]) if versus else None),
        ))
    return reports


def reports_in(engine: Engine, definitions: Mapping[str, Experiment] | None = None) -> dict[str, list[VariantReport]]:
    """A report for every experiment that has logged interactions, defined variant order where known."""
    with engine.connect() as connection:
        labels = connection.execute(
            select(Interaction.variant).where(Interaction.variant.is_not(None)).distinct()
        ).scalars().all()
    names = sorted({str(label).split("/", 1)[0] for label in labels if "/" in str(label)})
    known = definitions or {}
    return {name: experiment_report(engine, known.get(name, name)) for name in names}


def format_report(reports: Sequence[VariantReport]) -> str:
    """A plain-text table of a report."""
    def cell(p: Proportion) -> str:
        if p.rate is None:
            return "— (0)"
        text = f"{p.rate:.1%} [{p.low:.1%}, {p.high:.1%}] ({p.successes}/{p.trials})"
        return text + (f" p={p.p_value:.3f}" if p.p_value is not None else "")

    lines = [f"{'variant':<28} {'customers':>9}  {'click-through':<38} {'acceptance':<38} satisfaction"]
    for r in reports:
        lines.append(f"{r.label:<28} {r.customers:>9}  {cell(r.click_through):<38} {cell(r.acceptance):<38} "
                     f"{cell(r.satisfaction)}")
    if len(reports) > 1:
        lines.append(f"p: two-sided two-proportion z-test against {reports[0].label}; [..] Wilson 95% interval")
    return "\n".join(lines)
