import io
import zipfile
from datetime import date, datetime

import pytest
from marshmallow import EXCLUDE, Schema, fields, validate
from openpyxl import Workbook

from kit.errors import ValidationFailed
from services.organizations.domain import tabular
from services.organizations.domain.tabular import field_name, read_table, validate_rows


class CompoundRow(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True)
    community_code = fields.String(required=True)
    households = fields.Integer(load_default=None, validate=validate.Range(min=0))
    floor_area = fields.Float(load_default=None)
    old_compound = fields.Boolean(load_default=False, truthy={"是", "true", "1"}, falsy={"否", "false", "0"})


def xlsx_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CHINESE_CSV = "小区名称,社区编码,户数,建筑面积,老旧小区\n幸福里,C01,120,8000.5,是\n\n  阳光花园 ,C02,,,否\n"


def test_csv_with_bom_and_chinese_headers():
    rows = read_table("compounds.csv", CHINESE_CSV.encode("utf-8-sig"))
    assert rows == [
        {"name": "幸福里", "community_code": "C01", "households": "120", "floor_area": "8000.5",
         "old_compound": "是", "_row": 2},
        # the blank line keeps its number, so row numbers match what the user sees
        {"name": "阳光花园", "community_code": "C02", "households": None, "floor_area": None,
         "old_compound": "否", "_row": 4},
    ]


def test_csv_from_chinese_excel_in_gb18030():
    rows = read_table("COMPOUNDS.CSV", CHINESE_CSV.encode("gb18030"))
    assert [row["name"] for row in rows] == ["幸福里", "阳光花园"]
    assert rows[0]["community_code"] == "C01"


def test_english_headers_pass_through_lower_cased():
    content = b"Name,Community Code,Extra Column\nA,C01,x\n"
    assert read_table("a.csv", content) == [
        {"name": "A", "community_code": "C01", "extra_column": "x", "_row": 2}]


def test_header_aliases_and_required_marks():
    assert field_name("统一社会信用代码") == "credit_code"
    assert field_name("企业名称*") == "name"
    assert field_name(" 党员人数 ") == "party_member_count"
    assert field_name(None) is None


def test_quoted_cells_with_commas_and_newlines():
    content = 'name,address\n"A","1 Road, Block 2\nsecond line"\n'.encode()
    assert read_table("a.csv", content)[0]["address"] == "1 Road, Block 2\nsecond line"


def test_xlsx_numbers_come_as_strings_without_point_zero():
    content = xlsx_bytes([
        ["名称", "社区编码", "户数", "建筑面积", "老旧小区", "建成年份", "经度"],
        ["幸福里", "C01", 120, 8000.5, True, datetime(1998, 1, 1), 113.1234567],
        [None, None, None, None, None, None, None],
        ["阳光花园", 101, 40.0, None, False, date(2005, 6, 1), None],
    ])
    rows = read_table("compounds.xlsx", content)
    assert rows == [
        {"name": "幸福里", "community_code": "C01", "households": "120", "floor_area": "8000.5",
         "old_compound": "true", "year_built": "1998-01-01", "longitude": "113.1234567", "_row": 2},
        {"name": "阳光花园", "community_code": "101", "households": "40", "floor_area": None,
         "old_compound": "false", "year_built": "2005-06-01", "longitude": None, "_row": 4},
    ]


def test_csv_and_xlsx_validate_alike_with_one_schema():
    from_csv = read_table("a.csv", CHINESE_CSV.encode("utf-8-sig"))
    from_xlsx = read_table("a.xlsx", xlsx_bytes([
        ["小区名称", "社区编码", "户数", "建筑面积", "老旧小区"],
        ["幸福里", "C01", 120, 8000.5, "是"],
        [],
        ["阳光花园", "C02", None, None, "否"],
    ]))
    assert validate_rows(from_csv, CompoundRow()) == validate_rows(from_xlsx, CompoundRow())
    valid, errors = validate_rows(from_xlsx, CompoundRow())
    assert errors == []
    assert valid[0] == {"name": "幸福里", "community_code": "C01", "households": 120, "floor_area": 8000.5,
                        "old_compound": True, "_row": 2}
    assert valid[1]["households"] is None and valid[1]["_row"] == 4


@pytest.mark.parametrize("filename", ["compounds.xls", "compounds.txt", "compounds", ""])
def test_unsupported_file_type(filename):
    with pytest.raises(ValidationFailed) as raised:
        read_table(filename, b"name\nA\n")
    assert raised.value.details == {"file": ["unsupported file type; use .csv or .xlsx"]}


@pytest.mark.parametrize("content", [
    b"",
    b"this is not a zip file",
    xlsx_bytes([["name"], ["A"]])[:200],  # truncated download
])
def test_corrupt_xlsx_is_a_validation_failure(content):
    with pytest.raises(ValidationFailed) as raised:
        read_table("a.xlsx", content)
    assert list(raised.value.details) == ["file"]


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ValidationFailed):
        read_table("a.xlsx", buffer.getvalue())


@pytest.mark.parametrize("content", [b"", b"\n\n", b",,\nA,B\n"])
def test_empty_file_or_missing_header(content):
    with pytest.raises(ValidationFailed) as raised:
        read_table("a.csv", content)
    assert list(raised.value.details) == ["file"]


def test_header_only_gives_no_rows():
    assert read_table("a.csv", b"name,code\n") == []
    assert read_table("a.xlsx", xlsx_bytes([["name", "code"]])) == []


def test_duplicate_column_is_rejected():
    with pytest.raises(ValidationFailed) as raised:
        read_table("a.csv", "名称,企业名称\nA,B\n".encode())
    assert "name" in raised.value.details["file"][0]


def test_cells_under_blank_header_are_ignored():
    assert read_table("a.csv", b"name,,code\nA,x,C1,extra\n") == [{"name": "A", "code": "C1", "_row": 2}]


def test_too_many_rows(monkeypatch):
    header_and_cap = "name\n" + "A\n" * tabular.MAX_DATA_ROWS
    assert len(read_table("a.csv", header_and_cap.encode())) == tabular.MAX_DATA_ROWS
    with pytest.raises(ValidationFailed) as raised:
        read_table("a.csv", (header_and_cap + "B\n").encode())
    assert "too many rows" in raised.value.details["file"][0]
    monkeypatch.setattr(tabular, "MAX_DATA_ROWS", 2)
    with pytest.raises(ValidationFailed):
        read_table("a.xlsx", xlsx_bytes([["name"], ["A"], ["B"], ["C"]]))


def test_validate_rows_reports_every_bad_row_with_its_number():
    rows = read_table("a.csv", "名称,社区编码,户数\nA,C01,abc\n,C02,3\nC,C99,-1\nD,C01,4\n".encode())
    valid, errors = validate_rows(rows, CompoundRow())
    assert [row["_row"] for row in valid] == [5]
    assert [error["row"] for error in errors] == [2, 3, 4]
    assert errors[0]["errors"] == {"households": ["Not a valid integer."]}
    assert errors[1]["errors"] == {"name": ["Missing data for required field."]}
    assert list(errors[2]["errors"]) == ["households"]


def test_check_row_adds_cross_row_errors():
    rows = read_table("a.csv", "名称,社区编码\nA,C01\nB,C99\nA,C01\n".encode())
    known_communities = {"C01"}
    seen_names = set()
    calls = []

    def check_row(loaded, row_number):
        calls.append(row_number)
        problems = {}
        if loaded["community_code"] not in known_communities:
            problems["community_code"] = ["unknown community code"]
        if loaded["name"] in seen_names:
            problems["name"] = ["appears twice in the file"]
        seen_names.add(loaded["name"])
        return problems or None

    valid, errors = validate_rows(rows, CompoundRow(), check_row)
    assert calls == [2, 3, 4]
    assert [row["_row"] for row in valid] == [2]
    assert errors == [
        {"row": 3, "errors": {"community_code": ["unknown community code"]}},
        {"row": 4, "errors": {"name": ["appears twice in the file"]}},
    ]


def test_check_row_is_not_called_for_rows_the_schema_rejected():
    rows = [{"name": None, "community_code": "C01", "_row": 2}]
    valid, errors = validate_rows(rows, CompoundRow(), lambda loaded, n: pytest.fail("called"))
    assert valid == [] and errors[0]["row"] == 2
