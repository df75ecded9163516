"""The dependency audit (scripts/audit.py, ``make audit``): reading the tools' reports, explaining findings.

No network: the reports are pip-audit's and npm audit's JSON as they write it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _load_audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", ROOT / "scripts" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


audit = _load_audit()

PIP_AUDIT_REPORT = {
    "dependencies": [
        {"name": "jinja2", "version": "3.1.6", "vulns": []},
        {"name": "aiohttp", "version": "3.9.5", "vulns": [
            {"id": "GHSA-7gpw-8wmc-pm8g", "fix_versions": ["3.10.2"], "aliases": ["CVE-2024-42367"]},
            {"id": "PYSEC-2024-26", "fix_versions": [], "aliases": []},
        ]},
        {"name": "local-thing",
         "skip_reason": "Dependency not found on PyPI and could not be audited: local-thing (1.0)"},
    ],
    "fixes": [],
}
NPM_REPORT = {
    "auditReportVersion": 2,
    "vulnerabilities": {
        "engine.io-client": {"name": "engine.io-client", "severity": "high", "via": [
            {"source": 1096366, "name": "engine.io-client", "title": "…",
             "url": "https://github.com/advisories/GHSA-q9mw-68c2-j6m5", "range": "<6.5.4"}, "ws"],
            "nodes": ["node_modules/engine.io-client"]},
        "ws": {"name": "ws", "via": ["engine.io-client"]},
    },
    "metadata": {"vulnerabilities": {"total": 2}, "dependencies": {"prod": 9, "total": 9}},
}


def test_a_pip_audit_report_gives_findings_and_skipped_packages() -> None:
    result = audit.pip_audit_result(PIP_AUDIT_REPORT, "bot/requirements.lock", "pypi")
    assert result.error is None and result.audited == 2 and len(result.skipped) == 1
    assert [(f.package, f.id, f.aliases, f.fixed_in) for f in result.findings] == [
        ("aiohttp", "GHSA-7gpw-8wmc-pm8g", ("CVE-2024-42367",), ("3.10.2",)), ("aiohttp", "PYSEC-2024-26", (), ())]


def test_a_service_that_knew_no_release_did_not_audit() -> None:
    skipped = {"dependencies": [{"name": n, "skip_reason": f"Dependency not found on PyPI … {n}"} for n in "abc"]}
    result = audit.pip_audit_result(skipped, "requirements.lock", "pypi")
    assert result.error is not None and "none of the 3 releases" in result.error


def test_an_npm_report_gives_its_advisories_and_an_error_is_no_audit() -> None:
    result = audit.npm_audit_result(NPM_REPORT, {"node_modules/engine.io-client": {"version": "6.5.3"}})
    assert result.audited == 9 and [(f.package, f.version, f.id) for f in result.findings] == [
        ("engine.io-client", "6.5.3", "GHSA-q9mw-68c2-j6m5")]
    assert audit.npm_audit_result(NPM_REPORT).findings[0].version == "in <6.5.4"  # the lock not read
    offline = audit.npm_audit_result({"message": "405 Method Not Allowed - POST …/advisories/bulk", "statusCode": 405})
    assert offline.error is not None and "405" in offline.error


def test_findings_are_explained_only_by_the_known_findings_section(tmp_path: Path) -> None:
    doc = tmp_path / "SECURITY.md"
    doc.write_text("# Security\n\nGHSA-aaaa-bbbb-cccc is only mentioned here.\n\n## Known findings\n\n"
                   "| id | package | why |\n|---|---|---|\n| CVE-2024-42367 | aiohttp 3.9.5 | pinned by rasa |\n\n"
                   "## Next\n\nPYSEC-2024-26 is not explained here.\n", encoding="utf-8")
    assert audit.explained_ids(doc) == {"CVE-2024-42367"}


@pytest.mark.parametrize(("explained", "status"), [
    ({"CVE-2024-42367", "PYSEC-2024-26", "GHSA-q9mw-68c2-j6m5"}, 0),  # an alias explains its advisory
    ({"CVE-2024-42367", "GHSA-q9mw-68c2-j6m5"}, 1),
])
def test_the_audit_passes_only_with_every_finding_explained(explained: set[str], status: int,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    audits = [audit.pip_audit_result(PIP_AUDIT_REPORT, "test.lock", "pypi"), audit.npm_audit_result(NPM_REPORT)]
    assert audit.report(audits, explained) == status
    out = capsys.readouterr().out
    assert "local-thing" in out and ("UNEXPLAINED PYSEC-2024-26" in out) == (status == 1)


def test_a_lock_that_could_not_be_audited_fails_the_audit_saying_so(capsys: pytest.CaptureFixture[str]) -> None:
    offline = audit.LockAudit("bot/requirements.lock", "none", error="no vulnerability service answered",
                              tried=["osv: api.osv.dev does not resolve (no DNS for it here)"])
    assert audit.report([audit.npm_audit_result(NPM_REPORT), offline], {"GHSA-q9mw-68c2-j6m5"}) == audit.NOT_AUDITED
    out = capsys.readouterr().out
    assert "bot/requirements.lock: NOT AUDITED" in out and "api.osv.dev" in out
    assert "audit: 0 unexplained finding(s)" in out and "audit incomplete: 1 of 2 lock file(s)" in out


def test_a_local_version_is_audited_as_its_release(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("# comment\ntorch==2.13.0+cpu\nnumpy==2.3.5\n", encoding="utf-8")
    (tmp_path / "copy").mkdir()
    copy = audit._without_local_versions(lock, tmp_path / "copy")
    assert copy.read_text(encoding="utf-8") == "# comment\ntorch==2.13.0\nnumpy==2.3.5\n"


@pytest.mark.parametrize("tool", ["pip-audit", "hypothesis"])
def test_the_tools_run_are_the_ones_the_lock_pins(tool: str) -> None:
    pins = dict(line.split("==", 1) for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
                if "==" in line and not line.startswith("#"))
    pinned = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    assert importlib.metadata.version(tool) == pinned[tool]


def test_what_requires_a_package_leaves_out_extras_and_markers_that_do_not_hold() -> None:
    holders = audit.what_requires(Path(sys.executable), "pluggy")
    assert any(holder.startswith("pytest ") for holder in holders)
    # pytest needs tomli only before Python 3.11, and shopkeeper needs ruff only for its "dev" extra.
    assert not any(holder.startswith("pytest ") for holder in audit.what_requires(Path(sys.executable), "tomli"))
    assert audit.what_requires(Path(sys.executable), "ruff") == []
    assert audit.what_requires(Path("/nonexistent/python"), "pluggy") == []


def test_an_unexplained_finding_says_what_holds_it(capsys: pytest.CaptureFixture[str]) -> None:
    report = {"dependencies": [
        {"name": "pluggy", "version": "1.7.0", "vulns": [{"id": "PYSEC-2099-1", "fix_versions": ["9.9"]}]},
        {"name": "ruff", "version": "0.17.6", "vulns": [{"id": "PYSEC-2099-2", "fix_versions": []}]},
    ]}
    assert audit.report([audit.pip_audit_result(report, "requirements.lock", "pypi")], set()) == 1
    out = capsys.readouterr().out
    assert "UNEXPLAINED PYSEC-2099-1" in out and "fixed in 9.9" in out and "required by pytest " in out
    assert "ruff 0.17.6; no fixed release" in out
    assert "required by no installed package: a direct requirement of pyproject.toml" in out
