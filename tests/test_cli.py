"""The shopkeeper CLI: --help everywhere, import, build, search, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shopkeeper_cli.main import build_parser, main
from tests.conftest import MAPPINGS, ROOT


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "args",
    [[], ["catalog"], ["catalog", "import"], ["index"], ["index", "build"], ["search"]],
)
def test_every_command_has_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*args, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: shopkeeper") and len(out.splitlines()) > 4


def test_console_script_is_installed() -> None:
    result = subprocess.run([Path(sys.executable).parent / "shopkeeper", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "catalog" in result.stdout and "search" in result.stdout


def test_import_writes_native_jsonl_and_lists_skipped_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,title,price,category,description\nA,Sofa,\"Rs. 1,299\",Sofas,x\nB,Lamp,free,Lamps,y\n")
    out = tmp_path / "out.jsonl"
    code, stdout, _ = run(["catalog", "import", str(source), "--lenient", "--out", str(out)], capsys)
    assert code == 0
    assert "1 product(s) loaded from 2 row(s); 1 row(s) skipped" in stdout
    assert "price" in stdout and "'free'" in stdout
    assert json.loads(out.read_text().splitlines()[0])["price"] == 1299.0


def test_strict_import_fails_with_exit_2_and_names_the_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,title,price,category\nA,Sofa,10,Sofas\nA,Lamp,5,Lamps\n")
    code, _, stderr = run(["catalog", "import", str(source)], capsys)
    assert code == 2 and "row 3, field 'id'" in stderr and "duplicate" in stderr


def test_build_then_search_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPKEEPER_CACHE", str(tmp_path / "cache.sqlite"))
    catalog = str(ROOT / "data" / "catalog" / "products.jsonl")
    index = str(tmp_path / "idx")
    code, out, _ = run(["index", "build", "--catalog", catalog, "--encoder", "hashing", "--out", index,
                        "--quiet"], capsys)
    assert code == 0 and "Built a flat index of" in out
    code, out, _ = run(["index", "build", "--catalog", catalog, "--encoder", "hashing", "--out", index,
                        "--quiet"], capsys)
    assert "up to date" in out
    code, out, _ = run(["search", "grey", "sofa", "--catalog", catalog, "--encoder", "hashing", "--index", index,
                        "--category", "Sofas", "--max-price", "900", "--exclude", "leather", "-k", "4"], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["#", "score", "id", "title"]
    assert len(lines) == 5
    for line in lines[1:]:
        assert line.rstrip().endswith("Sofas") and "Leather" not in line
        assert float(line.split()[-3].replace(",", "")) <= 900


def test_search_with_a_stale_index_says_how_to_fix_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "c.jsonl"
    other.write_text(json.dumps({"id": "A", "title": "Sofa", "price": 1, "category": "Sofas"}) + "\n")
    run(["index", "build", "--catalog", str(other), "--encoder", "hashing", "--out", str(tmp_path / "i"),
         "--quiet"], capsys)
    other.write_text(json.dumps({"id": "B", "title": "Lamp", "price": 1, "category": "Lamps"}) + "\n")
    code, _, err = run(["search", "lamp", "--catalog", str(other), "--encoder", "hashing",
                        "--index", str(tmp_path / "i")], capsys)
    assert code == 2 and "does not match" in err and "shopkeeper index build" in err


@pytest.mark.shared
def test_flipkart_import_through_the_cli(shared_catalogs: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "flipkart.jsonl"
    code, stdout, _ = run(["catalog", "import", str(shared_catalogs / "flipkart-sample.csv"), "--mapping",
                           str(MAPPINGS / "flipkart.toml"), "--lenient", "--out", str(out)], capsys)
    assert code == 0 and "loaded from 1002 row(s)" in stdout
    assert len(out.read_text().splitlines()) >= 990


def test_nlu_lookups_are_generated_from_the_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    catalog = tmp_path / "c.jsonl"
    rows = [{"id": "1", "title": "Trail shoe", "price": 1, "category": "Running Shoes", "colour": "Red",
             "brand": "Zephyr", "material": "mesh"},
            {"id": "2", "title": "Tent", "price": 2, "category": "Tents", "colour": "green"}]
    catalog.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "hand.yml").write_text('version: "3.1"\nnlu:\n- synonym: Tents\n  examples: |\n    - tents\n')
    out = nlu / "catalog_lookups.yml"
    code, stdout, _ = run(["nlu", "lookups", "--catalog", str(catalog), "--out", str(out)], capsys)
    assert code == 0 and "2 category" not in stdout and str(out) in stdout
    document = yaml.safe_load(out.read_text())
    lookups = {b["lookup"]: b["examples"].split() for b in document["nlu"] if "lookup" in b}
    synonyms = {b["synonym"]: b["examples"] for b in document["nlu"] if "synonym" in b}
    assert set(lookups) == {"category", "colour", "material", "brand"}
    assert "running shoe" in " ".join(lookups["category"]).replace("- ", "")
    assert "running shoe" in synonyms["Running Shoes"] and "red" in synonyms["Red"]
    assert "Tents" in synonyms and "tents" not in synonyms["Tents"]  # already defined by hand
    assert "tent" in synonyms["Tents"]
