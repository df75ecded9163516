"""Known vulnerabilities in the project's three lock files (``make audit``).

==========================  ==========================================  ==========
lock file                   what it installs                            audited by
==========================  ==========================================  ==========
``requirements.lock``       the action server, web app and tools        pip-audit
``bot/requirements.lock``   the Rasa 3.6 server (Python 3.10)           pip-audit
``package-lock.json``       the widget's browser-side packages          npm audit
==========================  ==========================================  ==========

pip-audit (installed in ``.venv`` from ``requirements.lock``) reads the pins as written
(``--no-deps --disable-pip``: nothing is resolved or installed, so the Rasa lock is audited from
Python 3.11 too) and asks a vulnerability service about each release: PyPI's JSON API first,
then OSV, then ecosyste.ms, until one answers. A local version label is dropped first
(``torch==2.13.0+cpu`` is audited as the 2.13.0 release it was built from). ``npm audit`` asks
the npm registry about ``package-lock.json``.

A finding is *explained* when ``docs/SECURITY.md`` names its id, or one of its aliases, under
"Known findings", with why it does not apply or what pins it. For a finding that is not, the
report says which installed packages require the vulnerable one, and how: what holds the pin.

Exit status: 0 when every lock was audited and every finding is explained; 1 when a finding is
not explained; 3 when a lock could not be audited at all (no service answered: offline, or a
network that reaches the package indexes but not the vulnerability services).

Usage: ``.venv/bin/python scripts/audit.py [--service pypi|osv|esms] [--timeout SECONDS]``
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
SECURITY_DOC = ROOT / "docs" / "SECURITY.md"
#: Each Python lock and the environment installed from it (to say what requires a package).
PYTHON_LOCKS = {"requirements.lock": ROOT / ".venv" / "bin" / "python",
                "bot/requirements.lock": ROOT / ".venv-rasa" / "bin" / "python"}
#: Where each Python lock's direct requirements are written.
DIRECT = {"requirements.lock": "pyproject.toml", "bot/requirements.lock": "bot/requirements.in"}
SERVICES = ("pypi", "osv", "esms")
NOT_AUDITED = 3
#: The ids advisories go by: GitHub's, the Python Packaging Authority's, CVE, OSV's own.
_ADVISORY_ID = re.compile(r"\b(GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+|CVE-\d{4}-\d+|OSV-\d{4}-\d+)\b")


@dataclass(frozen=True)
class Finding:
    """One advisory against one pinned package."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        """The advisory's id and its aliases."""
        return (self.id, *self.aliases)


@dataclass
class LockAudit:
    """What auditing one lock file gave: how many packages were checked, findings, or why it could not run."""

    lock: str
    service: str
    audited: int = 0
    skipped: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    #: Why each service tried before this one gave no audit.
    tried: list[str] = field(default_factory=list)


def pip_audit_result(document: dict[str, Any], lock: str, service: str) -> LockAudit:
    """Read pip-audit's JSON (``-f json``) into a :class:`LockAudit`.

    When the service knew none of the releases ("Dependency not found on PyPI" for every one:
    PyPI's per-release JSON API did not answer), the lock counts as not audited.
    """
    result = LockAudit(lock, service)
    dependencies = document.get("dependencies") or []
    for dependency in dependencies:
        if dependency.get("skip_reason"):
            result.skipped.append(str(dependency["skip_reason"]))
            continue
        result.audited += 1
        for vulnerability in dependency.get("vulns") or []:
            result.findings.append(Finding(
                str(dependency.get("name")), str(dependency.get("version")), str(vulnerability.get("id")),
                tuple(vulnerability.get("aliases") or ()), tuple(vulnerability.get("fix_versions") or ())))
    if dependencies and result.audited == 0:
        result.error = (f"{service}: none of the {len(dependencies)} releases was known ({result.skipped[0]}, …): "
                        "its per-release JSON API gave no record for any of them")
    return result


def _why_unreachable(service: str, stderr: str) -> str:
    """One line on why pip-audit got no answer from ``service`` (its traceback says it at length)."""
    host = re.search(r"host='([^']+)'", stderr)
    for cause, said in (("Failed to resolve", "does not resolve (no DNS for it here)"),
                        ("Connection refused", "refused the connection"), ("timed out", "did not answer in time")):
        if host and cause in stderr:
            return f"{service}: {host.group(1)} {said}"
    last = (stderr.strip().splitlines() or ["no output"])[-1]
    return f"{service}: {last[:160]}"


def npm_audit_result(document: dict[str, Any], locked: dict[str, Any] | None = None) -> LockAudit:
    """Read ``npm audit --json`` (report version 2) into a :class:`LockAudit`; an error document is no audit.

    ``locked`` is ``package-lock.json``'s ``packages``: the version each vulnerable package is locked at
    (the report gives only the affected range).
    """
    result = LockAudit("package-lock.json", "npm registry")
    if "auditReportVersion" not in document:
        error = document.get("error")
        detail = document.get("message") or (error.get("summary") if isinstance(error, dict) else error)
        result.error = f"npm audit could not reach its advisory service: {detail or 'no report'}"
        return result
    result.audited = int((document.get("metadata") or {}).get("dependencies", {}).get("total", 0))
    for name, entry in (document.get("vulnerabilities") or {}).items():
        versions = sorted({str((locked or {}).get(node, {}).get("version")) for node in entry.get("nodes") or []
                           if (locked or {}).get(node, {}).get("version")})
        for via in entry.get("via") or []:
            if isinstance(via, dict):  # an advisory (a plain string names the dependency it comes through)
                found = _ADVISORY_ID.search(str(via.get("url", "")))
                version = ", ".join(versions) or f"in {via.get('range', '?')}"
                result.findings.append(Finding(name, version, found.group(1) if found
                                               else f"npm-{via.get('source')}", (), ()))
    return result


def explained_ids(doc: Path = SECURITY_DOC) -> set[str]:
    """The advisory ids ``docs/SECURITY.md`` explains: those in its "Known findings" section."""
    if not doc.is_file():
        return set()
    text = doc.read_text(encoding="utf-8")
    section = re.search(r"^## Known findings\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return set(_ADVISORY_ID.findall(section.group(1))) if section else set()


def _without_local_versions(lock: Path, folder: Path) -> Path:
    """A copy of the lock with local version labels dropped (``2.13.0+cpu`` → ``2.13.0``)."""
    copy = folder / lock.name
    lines = lock.read_text(encoding="utf-8").splitlines()
    copy.write_text("\n".join(re.sub(r"^([^#\s][^=]*==[^+\s]+)\+\S+", r"\1", line) for line in lines) + "\n",
                    encoding="utf-8")
    return copy


def audit_python_lock(lock: str, services: tuple[str, ...], timeout: int) -> LockAudit:
    """pip-audit one lock file against the first service that answers."""
    print(f"auditing {lock} with pip-audit …", flush=True)
    tried: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        pins = _without_local_versions(ROOT / lock, Path(folder))
        for service in services:
            report = Path(folder) / f"{service}.json"
            run = subprocess.run(
                [sys.executable, "-m", "pip_audit", "-r", str(pins), "--no-deps", "--disable-pip", "-s", service,
                 "--timeout", str(timeout), "--progress-spinner", "off", "--aliases", "on", "--desc", "off",
                 "-f", "json", "-o", str(report)],
                capture_output=True, text=True, check=False)
            try:
                result = pip_audit_result(json.loads(report.read_text(encoding="utf-8")), lock, service)
            except (OSError, ValueError):
                result = LockAudit(lock, service, error=_why_unreachable(service, run.stderr))
            if result.error is None:
                result.tried = tried
                return result
            tried.append(result.error)
    return LockAudit(lock, "none", tried=tried, error="no vulnerability service answered (offline, or a network "
                     "that reaches the package indexes but not the advisory services)")


def audit_npm_lock() -> LockAudit:
    """``npm audit`` of the widget's lock (read from the lock alone: nothing is installed)."""
    print("auditing package-lock.json with npm audit …", flush=True)
    try:
        run = subprocess.run(["npm", "audit", "--package-lock-only", "--json"], cwd=ROOT, capture_output=True,
                             text=True, check=False)
    except FileNotFoundError:
        return LockAudit("package-lock.json", "npm registry", error="npm is not installed")
    try:
        locked = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8")).get("packages", {})
        return npm_audit_result(json.loads(run.stdout), locked)
    except ValueError:
        return LockAudit("package-lock.json", "npm registry", error=f"npm audit failed: {run.stderr.strip()[:300]}")


def what_requires(python: Path, package: str) -> list[str]:
    """Which packages installed in an environment require ``package``, and how ("rasa 3.6.21: tensorflow==2.12.0").

    Requirements for an extra, or whose environment marker does not hold in that environment (another
    Python version), are left out.
    """
    if not python.exists():
        return []
    probe = (
        "import importlib.metadata as m, re, sys\n"
        "try:\n"
        "    from packaging.requirements import Requirement\n"
        "except ImportError:\n"
        "    Requirement = None\n"
        "norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()\n"
        "def holds(r):\n"
        "    if Requirement is None:\n"
        "        return 'extra ==' not in r\n"
        "    try:\n"
        "        marker = Requirement(r).marker\n"
        "        return marker is None or marker.evaluate({'extra': ''})\n"
        "    except Exception:\n"
        "        return 'extra ==' not in r\n"
        "for d in m.distributions():\n"
        "    for r in d.requires or []:\n"
        "        name = re.match(r'[A-Za-z0-9._-]+', r)\n"
        "        if name and norm(name.group(0)) == norm(sys.argv[1]) and holds(r):\n"
        "            print(f\"{d.metadata['Name']} {d.version}: {r.split(';')[0].strip()}\")\n"
    )
    run = subprocess.run([str(python), "-c", probe, package], capture_output=True, text=True, check=False)
    return sorted(set(run.stdout.splitlines()))


def report(audits: list[LockAudit], explained: set[str]) -> int:
    """Print what each audit found and return the exit status (0, 1 or 3: see the module docstring)."""
    unexplained = 0
    for audit in audits:
        if audit.error:
            print(f"{audit.lock}: NOT AUDITED — {audit.error}")
            for attempt in audit.tried:
                print(f"  {attempt}")
            continue
        known = [f for f in audit.findings if explained.intersection(f.ids)]
        print(f"{audit.lock}: {audit.audited} packages audited against {audit.service}; "
              f"{len(audit.findings)} finding(s), {len(known)} explained in docs/SECURITY.md")
        for skipped in audit.skipped:
            print(f"  not audited: {skipped}")
        for finding in audit.findings:
            if finding in known:
                continue
            unexplained += 1
            fixed = f"fixed in {', '.join(finding.fixed_in)}" if finding.fixed_in else "no fixed release"
            print(f"  UNEXPLAINED {finding.id} ({', '.join(finding.aliases) or 'no alias'}): "
                  f"{finding.package} {finding.version}; {fixed}")
            environment = PYTHON_LOCKS.get(audit.lock)
            holders = what_requires(environment, finding.package) if environment else []
            for holder in holders:
                print(f"      required by {holder}")
            if environment and environment.exists() and not holders:
                print(f"      required by no installed package: a direct requirement of {DIRECT[audit.lock]}")
    missing = [a.lock for a in audits if a.error]
    if len(missing) < len(audits):
        print(f"audit: {unexplained} unexplained finding(s)" + (
            " — upgrade the pin, or explain it under \"Known findings\" in docs/SECURITY.md" if unexplained else ""))
    if missing:
        print(f"audit incomplete: {len(missing)} of {len(audits)} lock file(s) could not be audited "
              f"({', '.join(missing)}); this says nothing about their vulnerabilities")
        return NOT_AUDITED
    return 1 if unexplained else 0


def main(argv: list[str] | None = None) -> int:
    """Audit the three lock files and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", choices=SERVICES, help="ask only this vulnerability service (default: "
                        "the first of pypi, osv, esms that answers)")
    parser.add_argument("--timeout", type=int, default=15, help="seconds to wait for each answer (default: 15)")
    args = parser.parse_args(argv)
    services = (args.service,) if args.service else SERVICES
    audits = [audit_python_lock(lock, services, args.timeout) for lock in PYTHON_LOCKS]
    audits.append(audit_npm_lock())
    return report(audits, explained_ids())


if __name__ == "__main__":
    sys.exit(main())
