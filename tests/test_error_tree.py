"""One error tree per package, and the boundaries (CLI, actions, web) that turn its root into clear messages."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.base import Events, ShopAction
from evaluation.errors import EvaluationError
from retrieval.errors import RetrievalError
from shopkeeper_cli.main import main as cli_main
from store.errors import (
    AccountError,
    ExperimentError,
    InvalidTagError,
    NothingStoredError,
    SettingsError,
    StoreError,
    StoreUnavailableError,
    UnknownUserError,
    UserExistsError,
)
from tests.actions_support import run, tracker
from tests.conftest import ROOT
from web.app import create_app
from web.errors import REFUSED, UNAVAILABLE, add_error_handlers
from web.settings import WebSettings

#: Each package that raises errors of its own, and the root every one of them descends from.
ROOTS: dict[str, type[Exception]] = {"store": StoreError, "retrieval": RetrievalError, "evaluation": EvaluationError}
#: Packages that raise no errors of their own: they translate the others' at their boundary.
NO_ERRORS_OF_THEIR_OWN = ("actions", "web", "shopkeeper_cli")


def errors_defined_in(package: str) -> list[type[BaseException]]:
    """Every exception class defined in a module of ``package`` (generated migrations aside)."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, BaseException)
                    and value.__module__.startswith(f"{package}.")):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


@pytest.mark.parametrize("package", sorted(ROOTS))
def test_every_error_of_a_package_descends_from_its_root(package: str) -> None:
    errors = errors_defined_in(package)
    assert ROOTS[package] in errors
    outside = [f"{e.__module__}.{e.__qualname__}" for e in errors if not issubclass(e, ROOTS[package])]
    assert not outside, f"errors of {package}/ outside {ROOTS[package].__name__}: {outside}"


@pytest.mark.parametrize("package", NO_ERRORS_OF_THEIR_OWN)
def test_boundary_packages_define_no_errors(package: str) -> None:
    assert errors_defined_in(package) == []


@pytest.mark.parametrize(("error", "builtin"), [
    (SettingsError, ValueError), (StoreUnavailableError, RuntimeError), (NothingStoredError, LookupError),
    (AccountError, ValueError), (UserExistsError, AccountError), (UnknownUserError, AccountError),
    (InvalidTagError, ValueError), (ExperimentError, ValueError),
])
def test_store_errors_keep_the_base_their_callers_catch(error: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(error, StoreError) and issubclass(error, builtin)


@pytest.mark.parametrize(("module", "name"), [
    ("web.console.accounts", "AccountError"), ("web.console.accounts", "UserExistsError"),
    ("web.console.accounts", "UnknownUserError"),
    ("web.console.review", "InvalidTagError"), ("store.export", "NothingStoredError"),
    ("store.retry", "StoreUnavailableError"), ("store.experiments", "ExperimentError"), ("store.db", "SettingsError"),
    ("retrieval.prices", "PriceError"), ("evaluation.stack", "StackError"), ("evaluation.conversations", "SuiteError"),
])
def test_errors_stay_importable_where_they_were(module: str, name: str) -> None:
    error = getattr(importlib.import_module(module), name)
    assert name in importlib.import_module(module).__all__
    assert issubclass(error, (StoreError, RetrievalError, EvaluationError))


def test_price_error_is_a_retrieval_error_and_still_a_value_error() -> None:
    from retrieval.prices import PriceError, parse_price

    with pytest.raises(RetrievalError) as raised:
        parse_price("free")
    assert isinstance(raised.value, PriceError) and isinstance(raised.value, ValueError)


# --------------------------------------------------------------------------------- the CLI


def test_cli_prints_one_line_and_exit_2_for_a_store_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "experiments.toml"
    broken.write_text("[personalisation\n")
    assert cli_main(["experiments", "list", "--file", str(broken)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: cannot read experiments from") and "Traceback" not in captured.err
    assert captured.err.count("\n") == 1


def test_cli_says_what_to_check_when_the_database_is_unreachable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailableError("the purge", 6, ConnectionError("connection refused"))

    monkeypatch.setattr("store.retention.purge", unreachable)
    code = cli_main(["privacy", "purge", "--db", f"sqlite:///{tmp_path / 'shop.db'}", "--tracker-db",
                     f"sqlite:///{tmp_path / 'tracker.db'}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: the purge was NOT saved: the database was unreachable for 6 attempts")
    assert "SHOPKEEPER_DB_URL" in err and "Traceback" not in err


# ------------------------------------------------------------------------------ the actions


class _Failing(ShopAction):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def name(self) -> str:
        return "action_failing"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        raise self.error


@pytest.mark.parametrize(("error", "logged"), [
    (StoreUnavailableError("a like", 6, ConnectionError("refused")), "the database was unreachable: a like was NOT"),
    (InvalidTagError("?"), "the store refused: invalid tag '?'"),
    (RetrievalError("no vector index"), "the catalog search failed: no vector index"),
    (KeyError("colour"), "unexpected KeyError: 'colour'"),
])
def test_a_failing_action_answers_politely_and_logs_which_layer_failed(
        error: Exception, logged: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="actions.base"):
        dispatcher, events = run(_Failing(error), tracker("a sofa"))
    assert [m["text"] for m in dispatcher.messages] == [texts.SOMETHING_WENT_WRONG] and events == []
    [record] = caplog.records
    assert "action_failing failed for sender customer-1" in record.getMessage()
    assert logged in record.getMessage() and record.exc_info is not None


# ---------------------------------------------------------------------------------- the web


def _app_raising(error: Exception) -> TestClient:
    app = FastAPI()
    add_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("error", "status", "detail"), [
    (StoreUnavailableError("a tag", 6, ConnectionError("refused")), 503, UNAVAILABLE),
    (NothingStoredError("web-1"), 404, "nothing is stored about the conversation 'web-1'"),
    (ExperimentError("experiment 'x' needs at least two variants"), 500, REFUSED),
])
def test_the_web_app_answers_a_store_error_with_a_status_and_a_sentence(
        error: Exception, status: int, detail: str) -> None:
    reply = _app_raising(error).get("/boom")
    assert reply.status_code == status and reply.json() == {"detail": detail}
    assert reply.headers["cache-control"] == "no-store"


def test_the_web_app_installs_the_store_error_answers(tmp_path: Path) -> None:
    settings = WebSettings("127.0.0.1", 8000, "http://127.0.0.1:5005", ROOT / "data" / "catalog" / "images",
                           tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
                           store_db_url=f"sqlite:///{tmp_path / 'shop.db'}")
    assert StoreError in create_app(settings).exception_handlers
