from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.errors import CatalogError, CatalogValidationError, MappingError
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping, mapping_from_dict
from tests.conftest import DEMO_CATALOG, MAPPINGS

HEADER = "sku,name,cost,type,about\n"
MAPPING = {
    "currency": "USD",
    "fields": {"id": "sku", "title": "name", "price": "cost", "category": "type", "description": "about"},
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_catalog_loads_strictly_with_no_problems() -> None:
    report = load_catalog(DEMO_CATALOG)
    assert len(report.catalog) >= 500
    assert len(report.catalog.categories()) >= 10
    assert report.errors == [] and report.warnings == []
    assert all(p.image_url and p.image_url.startswith("/catalog/images/") for p in report.catalog)


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="empty"):
        load_catalog(write(tmp_path, "c.csv", "   \n"), mapping_from_dict(MAPPING))


def test_header_without_rows_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no rows"):
        load_catalog(write(tmp_path, "c.csv", HEADER), mapping_from_dict(MAPPING))


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "sku,name,type,about\nA,Sofa,Sofas,x\n")
    with pytest.raises(CatalogError, match=r"\['cost'\].*not in the file"):
        load_catalog(path, mapping_from_dict(MAPPING))


def test_prices_with_currency_markers_and_thousands(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", HEADER + 'A,Sofa,"Rs. 1,299",Sofas,nice\nB,Rug,"Dhs 1,050",Rugs,soft\n')
    catalog = load_catalog(path, mapping_from_dict(MAPPING)).catalog
    assert [(p.price, p.currency) for p in catalog] == [(1299.0, "INR"), (1050.0, "AED")]


def test_strict_mode_lists_every_bad_row_with_row_field_and_value(tmp_path: Path) -> None:
    rows = (
        "A,Sofa,100,Sofas,ok\n"
        "A,Second sofa,120,Sofas,dup\n"   # row 3: duplicate id
        "C,Lamp,cheap,Lamps,bad price\n"  # row 4
        ",Nameless,5,Rugs,no id\n"        # row 5
        "E,,5,Rugs,no title\n"            # row 6
    )
    with pytest.raises(CatalogValidationError) as caught:
        load_catalog(write(tmp_path, "c.csv", HEADER + rows), mapping_from_dict(MAPPING))
    problems = {(e.row, e.field): e for e in caught.value.errors}
    assert set(problems) == {(3, "id"), (4, "price"), (5, "id"), (6, "title")}
    assert "first seen in row 2" in problems[(3, "id")].message
    assert problems[(4, "price")].value == "cheap"
    assert "row 4, field 'price'" in str(caught.value)


def test_lenient_mode_skips_bad_rows_and_reports_them(tmp_path: Path) -> None:
    rows = "A,Sofa,100,Sofas,ok\nB,Lamp,-3,Lamps,negative\nC,Rug,40,Rugs,fine\n"
    report = load_catalog(write(tmp_path, "c.csv", HEADER + rows), mapping_from_dict(MAPPING), strict=False)
    assert report.catalog.ids == ["A", "C"]
    assert [(e.row, e.field) for e in report.errors] == [(3, "price")]
    assert "negative" in report.errors[0].message
    assert report.summary().startswith("2 product(s) loaded from 3 row(s); 1 row(s) skipped")


def test_blank_description_is_a_warning_not_an_error(tmp_path: Path) -> None:
    report = load_catalog(write(tmp_path, "c.csv", HEADER + "A,Sofa,100,Sofas,   \n"), mapping_from_dict(MAPPING))
    assert len(report.catalog) == 1 and report.catalog[0].description == ""
    assert [(w.row, w.field) for w in report.warnings] == [(2, "description")]


def test_unicode_is_kept_and_normalised(tmp_path: Path) -> None:
    decomposed = "Cafe\u0301 Søren chair"  # e + combining acute
    path = write(tmp_path, "c.csv", HEADER + f"A,{decomposed},100,Chairs,für das Café 🛋\x07\n")
    product = load_catalog(path, mapping_from_dict(MAPPING)).catalog[0]
    assert product.title == "Café Søren chair"
    assert product.description == "für das Café 🛋"  # control character dropped


def test_not_utf8_is_reported_with_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(HEADER.encode() + b"A,Caf\xe9,1,Chairs,x\n")
    with pytest.raises(CatalogError, match=r"not UTF-8.*byte 0xe9 on line 2, offset 30"):
        load_catalog(path, mapping_from_dict(MAPPING))


def test_multiline_cells_keep_row_numbers_right(tmp_path: Path) -> None:
    rows = 'A,Sofa,100,Sofas,"line one\nline two"\nB,Lamp,oops,Lamps,x\n'
    report = load_catalog(write(tmp_path, "c.csv", HEADER + rows), mapping_from_dict(MAPPING), strict=False)
    assert report.errors[0].row == 4  # the file line where row B starts


def test_jsonl_and_json_native_formats(tmp_path: Path) -> None:
    record = {"id": "A", "title": "Sofa", "price": 10, "category": "Sofas", "description": "d", "tags": ["x"]}
    jsonl = load_catalog(write(tmp_path, "c.jsonl", json.dumps(record) + "\n\n")).catalog
    array = load_catalog(write(tmp_path, "c.json", json.dumps([record]))).catalog
    wrapped = load_catalog(write(tmp_path, "w.json", json.dumps({"products": [record]}))).catalog
    assert jsonl.ids == array.ids == wrapped.ids == ["A"]
    assert jsonl[0].tags == ("x",)


def test_broken_json_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", '{"id": "A", "title": "t", "price": 1, "category": "c"}\n{oops\n')
    with pytest.raises(CatalogError, match="line 2 is not valid JSON"):
        load_catalog(path)


def test_json_that_is_not_a_product_list(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="expected a list of products"):
        load_catalog(write(tmp_path, "c.json", '{"items": 3}'))
    with pytest.raises(CatalogError, match="no products"):
        load_catalog(write(tmp_path, "d.json", "[]"))


def test_no_valid_rows_at_all_is_an_error_even_when_lenient(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no valid products"):
        load_catalog(write(tmp_path, "c.csv", HEADER + "A,Sofa,free,Sofas,x\n"), mapping_from_dict(MAPPING),
                     strict=False)


def test_optional_values_out_of_range_are_dropped_with_a_warning(tmp_path: Path) -> None:
    record = {"id": "A", "title": "Sofa", "price": 10, "category": "Sofas", "description": "d",
              "rating": 9, "stock": "many"}
    report = load_catalog(write(tmp_path, "c.jsonl", json.dumps(record)))
    product = report.catalog[0]
    assert product.rating is None and product.stock is None
    assert sorted(w.field for w in report.warnings) == ["rating", "stock"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fields": {"id": "a", "title": "b", "price": "c"}}, "required field.*category"),
        ({"fields": {"id": "a", "title": "b", "price": "c", "category": "d", "colour_name": "e"}}, "unknown field"),
        ({"fields": {"id": "a", "title": "b", "price": "c", "category": {"column": "d", "transform": "x"}}},
         "transform must be"),
        ({"format": "xml", "fields": {}}, "format must be"),
        ({"currency": "dollars", "fields": {"id": "a", "title": "b", "price": "c", "category": "d"}}, "ISO code"),
        ({"colums": {}}, "unknown top-level"),
    ],
)
def test_bad_mappings_are_named_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        mapping_from_dict(data)


def test_mapping_file_errors(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not found"):
        load_mapping(tmp_path / "nope.toml")
    with pytest.raises(MappingError, match="not valid TOML"):
        load_mapping(write(tmp_path, "bad.toml", "fields = [\n"))


def test_mapping_reads_lists_specs_and_nested_paths(tmp_path: Path) -> None:
    mapping = mapping_from_dict({
        "format": "json",
        "fields": {
            "id": "sku", "title": "name", "price": {"column": ["sale", "list"]},
            "category": {"column": "tree", "item": 0, "transform": "title"},
            "colour": {"column": "specs", "spec": ["Colour", "Color"]},
            "image_url": {"column": "media.images.0"},
            "rating": {"column": "stars", "missing": ["0"]},
        },
    })
    record = {"sku": "A", "name": "Lamp", "list": "Rs. 1,000", "tree": "['home decor', 'lamps']",
              "specs": "[{'key': 'Color', 'value': 'Red'}, {'value': 'no key'}]",
              "media": {"images": ["a.jpg", "b.jpg"]}, "stars": 0}
    product = load_catalog(write(tmp_path, "c.json", json.dumps([record])), mapping).catalog[0]
    assert (product.price, product.currency) == (1000.0, "INR")
    assert product.category == "Home Decor"
    assert product.colour == "Red"
    assert product.image_url == "a.jpg"
    assert product.rating is None


@pytest.mark.shared
def test_flipkart_sample_imports_through_its_mapping(shared_catalogs: Path) -> None:
    report = load_catalog(shared_catalogs / "flipkart-sample.csv", load_mapping(MAPPINGS / "flipkart.toml"),
                          strict=False)
    catalog = report.catalog
    assert report.rows_read == 1002
    assert len(catalog) + len({e.row for e in report.errors}) == 1002
    assert len(catalog) >= 990  # the few rows skipped have no usable price
    assert all(p.currency == "INR" for p in catalog)
    assert {"Footwear", "Clothing", "Jewellery"} <= set(catalog.categories())
    shoe = catalog.get("f449ec65dcbc041b6ae5e6a32717d01b")
    assert shoe is not None and shoe.price == 499.0 and shoe.colour == "Red"
    assert shoe.material == "Patent Leather" and shoe.rating is None


@pytest.mark.shared
def test_dummyjson_imports_through_its_mapping(shared_catalogs: Path) -> None:
    report = load_catalog(shared_catalogs / "dummyjson-products.json", load_mapping(MAPPINGS / "dummyjson.toml"))
    catalog = report.catalog
    assert len(catalog) == 194 and report.errors == []
    mascara = catalog.get("BEA-ESS-ESS-001")
    assert mascara is not None
    assert (mascara.title, mascara.price, mascara.category) == ("Essence Mascara Lash Princess", 9.99, "Beauty")
    assert mascara.stock == 99 and mascara.tags == ("beauty", "mascara")
    assert mascara.extra["warranty"] == "1 week warranty"


def test_a_path_is_split_before_a_level_is_taken(tmp_path: Path) -> None:
    mapping = mapping_from_dict({
        "shop_name": "Toy Box",
        "fields": {
            "id": "sku", "title": "name", "price": "cost",
            "category": {"column": "path", "split": "|", "item": 1},
            "tags": {"column": "path", "split": "|"},
            "image_url": {"column": "pics", "split": "|", "item": 0},
        },
    })
    assert mapping.shop_name == "Toy Box"
    path = write(tmp_path, "c.csv", "sku,name,cost,path,pics\n"
                 'A,Kit,$9,Toys & Games | Hobbies | Model Kits,a.jpg|b.jpg\nB,Top,$3,Toys & Games,c.jpg\n')
    report = load_catalog(path, mapping, strict=False)
    kit = report.catalog[0]
    assert (kit.category, kit.image_url) == ("Hobbies", "a.jpg")
    assert kit.tags == ("toys & games", "hobbies", "model kits")
    # a path without a second level has no category: skipped and named, not guessed
    assert [(e.row, e.field) for e in report.errors] == [(3, "category")]


def test_price_ranges_and_untidy_prices(tmp_path: Path) -> None:
    rows = ('R,Range,$74.99 - $249.99,Toys,x\n'
            'T,Twice,$6.94 $ 6 . 94,Toys,x\n'
            'S,Styled,"$ 19 99 $39.95 #listPriceLegalMessageText { margin-left: 4px !important; }",Toys,x\n'
            'N,None,Total price:,Toys,x\n')
    path = write(tmp_path, "c.csv", HEADER + rows)
    report = load_catalog(path, mapping_from_dict(MAPPING), strict=False)
    prices = {p.id: (p.price, p.price_from) for p in report.catalog}
    assert prices == {"R": (74.99, True), "T": (6.94, False), "S": (19.99, False)}
    assert [(e.row, e.field) for e in report.errors] == [(5, "price")]
    assert "not a price" in report.errors[0].message
    assert sorted(w.row for w in report.warnings if w.field == "price") == [3, 4]
    # strict: the range is a price, the untidy cells are errors listed with their rows
    with pytest.raises(CatalogValidationError) as caught:
        load_catalog(path, mapping_from_dict(MAPPING))
    assert sorted(e.row for e in caught.value.errors) == [3, 4, 5]
    # the lower bound survives the native JSONL round trip; a plain price writes no flag
    out = tmp_path / "out.jsonl"
    report.catalog.write_jsonl(out)
    lines = out.read_text().splitlines()
    assert '"price_from": true' in lines[0] and "price_from" not in lines[1]
    assert load_catalog(out).catalog.get("R").price_from is True  # type: ignore[union-attr]


@pytest.mark.shared
def test_amazon_sample_imports_through_its_mapping(shared_catalogs: Path) -> None:
    report = load_catalog(shared_catalogs / "amazon-2020-sample.csv", load_mapping(MAPPINGS / "amazon.toml"),
                          strict=False)
    catalog = report.catalog
    assert report.rows_read == 1000
    # every row is either kept or listed with its reason
    assert len(catalog) + len({e.row for e in report.errors}) == 1000
    reasons = {(e.field, e.message) for e in report.errors}
    assert reasons == {("category", "category is empty"), ("price", "not a price: 'Total price:'")}
    assert len(catalog) == 910
    assert all(p.currency == "USD" and p.price > 0 for p in catalog)
    # the second level of the path is the kind; every level is searchable
    assert {"Puzzles", "Stuffed Animals & Plush Toys", "Costumes & Accessories"} <= set(catalog.categories())
    assert "Toys & Games" not in catalog.categories()
    swan = catalog.get("167a657569966c53f85837414f11fef0")
    assert swan is not None and swan.category == "Puzzles" and swan.price == 9.60
    assert swan.tags == ("toys & games", "puzzles", "brain teasers")
    assert swan.image_url == "https://images-na.ssl-images-amazon.com/images/I/51KLyY5WdsL.jpg"
    ranged = [p for p in catalog if p.price_from]
    assert len(ranged) >= 10 and all(p.price < 1000 for p in ranged)
    assert sum(1 for w in report.warnings if w.field == "price") >= 5
