"""A shop's order history in: read through a mapping, refused rows with their reasons, stored under pseudonyms.

Then ``shopkeeper interactions build`` learns the collaborative model from every purchase, like and choice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from retrieval.catalog import Catalog, Product
from retrieval.collaborative import CollaborativeModel
from retrieval.errors import CatalogError
from retrieval.interactions import InteractionMapping, load_interaction_mapping, read_interactions
from retrieval.loaders import load_catalog
from shopkeeper_cli.main import main
from store import Interaction, InteractionKind, ProfileStore, create_schema, make_engine
from store.pseudonyms import Pseudonymiser
from store.purchases import import_purchases, taken_pairs

MAPPING = InteractionMapping({"customer": "who", "item": "sku", "time": "when", "quantity": "qty", "rating": "stars"},
                             time_format="%d/%m/%Y %H:%M", min_rating=4)
HEADER = "who,sku,when,qty,stars\n"
ITEMS = {"A", "B", "C"}


def _export(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_every_bad_row_is_refused_with_its_reason_and_the_rest_kept(tmp_path: Path) -> None:
    report = read_interactions(_export(tmp_path, [
        "c1,A,01/02/2024 10:00,2,5",      # kept
        ",A,01/02/2024 10:00,1,",          # no customer
        "c1,Z,01/02/2024 10:00,1,",        # not in the catalog
        "c1,B,2024-02-01,1,",              # the mapping's time format
        "c1,B,01/02/2024 10:00,-1,",       # a return
        "c1,B,01/02/2024 10:00,two,",      # no number
        "c2,C,01/02/2024 11:00,,3",        # rated below the liking: neither kept nor refused
        "c2,B,01/02/2024 11:00,,",         # kept
    ]), MAPPING, ITEMS)
    assert report.rows_read == 8
    assert [(t.customer, t.item) for t in report.kept] == [("c1", "A"), ("c2", "B")]
    assert report.kept[0].at == datetime(2024, 2, 1, 10, 0, tzinfo=UTC) and report.kept[0].quantity == 2.0
    assert [(p.row, p.field) for p in report.refused] == [(3, "customer"), (4, "item"), (5, "time"),
                                                         (6, "quantity"), (7, "quantity")]
    assert "not in the catalog" in report.refused[1].message and "0" in report.refused[3].message


def test_a_mapping_without_the_required_columns_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[fields]\ncustomer = "who"\nitem = "sku"\nbasket = "b"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"unknown field\(s\) basket.*missing time"):
        load_interaction_mapping(path)
    path.write_text("not toml [", encoding="utf-8")
    with pytest.raises(CatalogError, match="not a readable TOML"):
        load_interaction_mapping(path)


def test_purchases_are_stored_under_a_keyed_pseudonym_once(tmp_path: Path) -> None:
    engine = make_engine("sqlite://")
    create_schema(engine)
    pseudonyms = Pseudonymiser(b"k" * 32)
    kept = read_interactions(_export(tmp_path, ["c1,A,01/02/2024 10:00,1,", "c1,B,01/02/2024 10:00,1,"]),
                             MAPPING, ITEMS).kept
    assert import_purchases(engine, kept, pseudonyms) == (2, 0)
    assert import_purchases(engine, kept, pseudonyms) == (0, 2)  # the same file again adds nothing
    with Session(engine) as session:
        rows = session.scalars(select(Interaction)).all()
    assert {r.kind for r in rows} == {InteractionKind.PURCHASE}
    assert {r.pseudonym for r in rows} == {pseudonyms.stable("c1")}
    assert all(r.customer_id is None for r in rows)
    assert Pseudonymiser(b"j" * 32).stable("c1") != pseudonyms.stable("c1")  # keyed: not the id, nor its plain hash


def test_what_was_taken_counts_purchases_likes_and_choices_not_dislikes() -> None:
    engine = make_engine("sqlite://")
    create_schema(engine)
    profiles = ProfileStore(engine)
    profiles.record("web-1", InteractionKind.LIKE, item_id="A")
    profiles.record("web-1", InteractionKind.DISLIKE, item_id="B")
    profiles.record("web-1", InteractionKind.CHOICE, item_id="C")
    taken = taken_pairs(engine)
    assert sorted(item for _, item in taken) == ["A", "C"]
    assert len({who for who, _ in taken}) == 1


def test_the_cli_imports_an_export_and_builds_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = tmp_path / "catalog.jsonl"
    Catalog([Product(i, f"Item {i}", 5.0, "GBP", "Things") for i in sorted(ITEMS)]).write_jsonl(catalog)
    mapping = tmp_path / "orders.toml"
    mapping.write_text('time_format = "%d/%m/%Y %H:%M"\n[fields]\ncustomer = "who"\nitem = "sku"\n'
                       'time = "when"\nquantity = "qty"\n', encoding="utf-8")
    lines = [f"c{n},{item},01/02/2024 10:00,1," for n in range(6) for item in ("A", "B")] + ["c9,Z,01/02/2024 10:00,1,"]
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    common = ["--db", db, "--catalog", str(catalog)]
    assert main(["interactions", "import", str(_export(tmp_path, lines)), "--mapping", str(mapping), *common]) == 0
    said = capsys.readouterr().out
    assert "12 interaction(s) of 6 customer(s) read from 13 row(s); 1 row(s) refused; 12 stored" in said
    assert "not in the catalog" in said and "'Z'" in said
    out = tmp_path / "model"
    assert main(["interactions", "build", "--out", str(out), *common]) == 0
    model = CollaborativeModel.load(out, expected_fingerprint=load_catalog(catalog).catalog.fingerprint())
    assert model.bought_with("A") == [("B", 6)]


def test_the_model_keeps_aggregate_counts_and_no_customer(tmp_path: Path) -> None:
    """Pseudonymous interactions may feed aggregate counts: the saved model names items, never who took them."""
    engine = make_engine("sqlite://")
    create_schema(engine)
    pseudonyms = Pseudonymiser(b"k" * 32)
    rows = read_interactions(_export(tmp_path, [f"shopper{n},{item},01/02/2024 10:00,1,"
                                                for n in range(6) for item in ("A", "B")]), MAPPING, ITEMS).kept
    import_purchases(engine, rows, pseudonyms)
    catalog = Catalog([Product(i, f"Item {i}", 5.0, "GBP", "Things") for i in sorted(ITEMS)])
    CollaborativeModel.build(catalog, taken_pairs(engine)).save(tmp_path / "model")
    stored = b"".join(p.read_bytes() for p in (tmp_path / "model").iterdir())
    assert b"shopper" not in stored
    assert not any(pseudonyms.stable(f"shopper{n}").encode() in stored for n in range(6))
