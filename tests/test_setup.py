"""The setup script: idempotent, and clear when python3.10 is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT


def test_missing_python310_is_explained(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "scripts", project / "scripts")
    (project / "bot").mkdir()
    for name in ("requirements.lock", "requirements-nlu-model.txt"):
        shutil.copy(ROOT / "bot" / name, project / "bot")
    bin_dir = tmp_path / "bin"  # only the tools the script needs, no python3.10
    bin_dir.mkdir()
    for tool in ("bash", "cat", "sha256sum", "cut", "dirname", "grep"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    result = subprocess.run(
        ["bash", "scripts/setup.sh", "rasa"], cwd=project, capture_output=True, text=True,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "python3.10 was not found" in result.stderr
    assert "RASA_PYTHON" in result.stderr
    assert not (project / ".venv-rasa").exists()


def test_an_up_to_date_environment_is_left_alone() -> None:
    venv = ROOT / ".venv"
    stamp = venv / ".requirements.sha256"
    before = stamp.stat().st_mtime_ns
    result = subprocess.run(["bash", "scripts/setup.sh", "app"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and stamp.stat().st_mtime_ns == before
