"""Categories read from product names, for catalogs with no category column (Myntra)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from retrieval.errors import MappingError
from retrieval.kinds import head_words, kinds_from_names
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping, mapping_from_dict
from tests.conftest import MAPPINGS


def test_the_kind_is_the_last_word_of_the_head_phrase_that_the_catalog_uses_as_a_kind() -> None:
    names = ["Roadster Men Navy Casual Shirt", "HRX Men Black Shirt", "Nike Men Shirt Afreen",
             "Puma Women Pink Sneakers", "Red Tape Men Sneakers", "Mast Sneakers with Laces",
             "Fossil Watch for Men", "Titan Watch", "Libas Kurta with Palazzos & Dupatta", "Biba Kurta"]
    assert kinds_from_names(names, min_names=2) == [
        "Shirt", "Shirt", "Shirt", "Sneakers", "Sneakers", "Sneakers", "Watch", "Watch", "Kurta", "Kurta"]


def test_a_quantity_or_a_code_is_never_a_kind() -> None:
    assert head_words("Davidoff Cool Water Eau de Toilette 100 ml") == ["Davidoff", "Cool", "Water", "Eau", "de",
                                                                      "Toilette"]
    assert head_words("Sonata Watch NT-98") == ["Sonata", "Watch"]
    assert kinds_from_names(["X Perfume 30ml", "Y Perfume", "Z Perfume 50 ml"], min_names=2) == ["Perfume"] * 3


def test_singular_plural_and_hyphenated_spellings_are_one_kind() -> None:
    names = ["A Door Curtains", "B Window Curtains", "C Door Curtain", "D Men T-shirt", "E Men T-shirt", "F Tshirt"]
    assert kinds_from_names(names, min_names=1) == ["Curtains"] * 3 + ["T-shirt"] * 3


def test_a_mapping_may_read_the_category_from_the_name(tmp_path: Path) -> None:
    rows = ["id,name,price", "1,Roadster Men Navy Casual Shirt,999", "2,HRX Men Black Shirt,799",
            "3,Puma Women Pink Sneakers,2999", "4,Red Tape Sneakers with Laces,1999"]
    (tmp_path / "shop.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    mapping = mapping_from_dict({"format": "csv", "currency": "INR", "fields": {
        "id": "id", "title": "name", "price": "price",
        "category": {"column": "name", "transform": "kind_of_name"}}})
    catalog = load_catalog(tmp_path / "shop.csv", mapping).catalog
    assert [p.category for p in catalog] == ["Shirt", "Shirt", "Sneakers", "Sneakers"]
    assert next(p.title for p in catalog) == "Roadster Men Navy Casual Shirt"  # the name itself is untouched


def test_a_colour_of_the_catalog_is_never_a_kind_though_names_end_with_it(tmp_path: Path) -> None:
    # "DODO & MOA Pink": a bag named by its brand and colour; "Pink" would become a category that "pink or
    # purple", answered to a colour question, names
    rows = ["id,name,price,colour", "1,Dodo Moa Pink,999,Pink", "2,Lumo Sling Pink,799,Pink",
            "3,Nike Sling Bag Pink,999,Pink", "4,Roadster Sling Bag,899,Black", "5,HRX Bag,799,Black"]
    (tmp_path / "shop.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    mapping = mapping_from_dict({"format": "csv", "currency": "INR", "fields": {
        "id": "id", "title": "name", "price": "price", "colour": "colour",
        "category": {"column": "name", "transform": "kind_of_name"}}})
    categories = [p.category for p in load_catalog(tmp_path / "shop.csv", mapping).catalog]
    assert "Pink" not in categories and categories[2:] == ["Bag", "Bag", "Bag"]
    assert kinds_from_names([r.split(",")[1] for r in rows[1:]], min_names=2)[:2] == ["Pink", "Pink"]  # unless told


def test_a_name_longer_than_a_category_name_may_be_still_gives_its_kind(tmp_path: Path) -> None:
    long_name = "Roadster Men Navy Blue and White Checked Slim Fit Smart Casual Cotton Shirt " + "x" * 60 + " Shirt"
    rows = ["id,name,price", f"1,{long_name},999", "2,HRX Men Black Shirt,799"]
    (tmp_path / "shop.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    mapping = mapping_from_dict({"format": "csv", "fields": {
        "id": "id", "title": "name", "price": "price",
        "category": {"column": "name", "transform": "kind_of_name"}}})
    assert len(long_name) > 120  # the limit of a category name
    assert [p.category for p in load_catalog(tmp_path / "shop.csv", mapping).catalog] == ["Shirt", "Shirt"]


def test_an_unknown_transform_is_refused_with_the_known_ones() -> None:
    with pytest.raises(MappingError, match="kind_of_name"):
        mapping_from_dict({"fields": {"id": "i", "title": "t", "price": "p",
                                      "category": {"column": "t", "transform": "kind"}}})


@pytest.mark.shared
def test_the_myntra_export_gets_kinds_from_its_names(shared_catalogs: Path) -> None:
    report = load_catalog(shared_catalogs / "myntra-products.csv", load_mapping(MAPPINGS / "myntra.toml"),
                          strict=False)
    catalog = report.catalog
    assert len(catalog) >= 12_000
    sizes = Counter(p.category for p in catalog)
    for kind in ("Shirt", "T-shirt", "Kurta", "Jeans", "Sneakers", "Saree", "Backpack", "Watch", "Earrings"):
        assert sizes[kind] >= 50, kind
    assert sizes["Ml"] == 0 and sizes["Men"] == 0  # a unit and a gender are never kinds
    by_id = {p.id: p for p in catalog}
    assert by_id["10017413"].category == "Bag"  # DKNY Unisex Black & Grey Printed Medium Trolley Bag
    assert by_id["10009781"].category == "Jeans"  # SPYKAR Women Pink Alexa … Cropped Jeans
    assert by_id["10016283"].category == "Set"  # EthnoVogue … Kurta Set with Jacket
    assert by_id["10017413"].extra["gender"] == "Unisex"
    assert by_id["10017413"].use == "Unisex" == by_id["10017413"].audience
