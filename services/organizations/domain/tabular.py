"""Reading bulk-import files (CSV and XLSX) into rows, and validating them row by row.

Every cell comes out as a stripped string or None, whatever the format, so one marshmallow schema validates both.
The caller imports nothing when any row has an error.
"""
import contextlib
import csv
import datetime
import io
import os

from marshmallow import ValidationError

from kit.errors import ValidationFailed

MAX_DATA_ROWS = 50_000
HEADER_ROW = 1  # spreadsheet row numbers as the user sees them: the header is row 1

HEADER_ALIASES = {
    "名称": "name",
    "小区名称": "name",
    "企业名称": "name",
    "编码": "code",
    "小区编码": "code",
    "社区编码": "community_code",
    "地址": "address",
    "建成年份": "year_built",
    "楼栋数": "building_count",
    "户数": "households",
    "建筑面积": "floor_area",
    "老旧小区": "old_compound",
    "统一社会信用代码": "credit_code",
    "从业人员": "staff_count",
    "国有企业": "state_owned",
    "党员人数": "party_member_count",
    "经度": "longitude",
    "纬度": "latitude",
}


def _file_problem(message):
    return ValidationFailed(message, details={"file": [message]})


def field_name(header):
    """The English field for a header cell: a known Chinese alias, or the header lower-cased with underscores."""
    text = _cell_text(header)
    if text is None:
        return None
    text = text.rstrip("*＊").strip()  # templates mark required columns with an asterisk
    if text in HEADER_ALIASES:
        return HEADER_ALIASES[text]
    return "_".join(text.lower().split())


def _cell_text(value):
    """A cell as a stripped string, None when empty; integral numbers without '.0'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time(0) else value
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.strip().strip("\u3000").strip()
    return text or None


def _decode_csv(content):
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")  # Chinese Excel saves CSV in the local code page
    except UnicodeDecodeError:
        raise _file_problem("cannot read the CSV file; save it as UTF-8 or GB18030") from None


def _csv_records(content):
    reader = csv.reader(io.StringIO(_decode_csv(content), newline=""))
    try:
        yield from reader
    except csv.Error as error:
        raise _file_problem(f"the CSV file is malformed near row {reader.line_num}: {error}") from None


def _xlsx_records(content):
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises zip, XML and key errors alike for a damaged file
        raise _file_problem("cannot read the Excel file; it is damaged or not an .xlsx workbook") from None
    try:
        if not workbook.worksheets:
            return
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    except ValidationFailed:
        raise
    except Exception:
        raise _file_problem("cannot read the Excel file; it is damaged or not an .xlsx workbook") from None
    finally:
        workbook.close()


def _records(filename, content):
    extension = os.path.splitext(filename or "")[1].lower()
    if extension == ".csv":
        return _csv_records(content)
    if extension == ".xlsx":
        return _xlsx_records(content)
    raise _file_problem("unsupported file type; use .csv or .xlsx")


def read_table(filename, content):
    """Rows of the first sheet as dicts keyed by English field names, each with "_row" (data starts at row 2).

    Raises ValidationFailed with details {"file": [...]} for a file that cannot be read as a table.
    """
    with contextlib.closing(_records(filename, content)) as records:
        header, rows = _collect(records)
    if header is None:
        raise _file_problem("the file is empty")
    return rows


def _collect(records):
    header = None
    rows = []
    for row_number, record in enumerate(records, start=HEADER_ROW):
        cells = [_cell_text(value) for value in record]
        if header is None:
            if not any(cells):
                raise _file_problem("the first row must be the header")
            header = _header_fields(record)
            continue
        if not any(cells):
            continue
        if len(rows) >= MAX_DATA_ROWS:
            raise _file_problem(f"too many rows; at most {MAX_DATA_ROWS} data rows per file")
        row = {field: None for field in header if field}
        for field, value in zip(header, cells):
            if field:  # cells under a blank header are ignored
                row[field] = value
        row["_row"] = row_number
        rows.append(row)
    return header, rows


def _header_fields(record):
    fields = [field_name(value) for value in record]
    seen = set()
    for field in fields:
        if field is None:
            continue
        if field in seen:
            raise _file_problem(f"the column {field!r} appears more than once")
        if field == "_row":
            raise _file_problem("a column may not be called '_row'")
        seen.add(field)
    return fields


def validate_rows(rows, schema, check_row=None):
    """Load every row with a marshmallow schema instance; returns (valid rows, errors).

    Empty cells are left out of the data, so an optional field may be blank and a required one reports it is
    missing. check_row(loaded, row_number) may return extra field errors (unknown references, duplicates in the
    file). Errors are [{"row": n, "errors": {field: [messages]}}]; valid rows keep "_row".
    """
    valid, errors = [], []
    for row in rows:
        row_number = row.get("_row")
        data = {field: value for field, value in row.items() if field != "_row" and value is not None}
        try:
            loaded = schema.load(data)
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
            errors.append({"row": row_number, "errors": messages})
            continue
        loaded = dict(loaded)
        loaded["_row"] = row_number
        extra = check_row(loaded, row_number) if check_row else None
        if extra:
            errors.append({"row": row_number, "errors": extra})
            continue
        valid.append(loaded)
    return valid, errors
