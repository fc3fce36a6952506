"""The output writers: an Excel sheet written at column speed is the sheet xlsxwriter writes."""

import re
import zipfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fdi_incentive.io.writers import EXCEL_OPTIONS, BatchWriter, SheetRows

# text as it may come into an output: XML specials, Excel's own _xHHHH_ escapes, control
# characters, leading and trailing white space (ideographic too), line ends, CJK, emoji
texts = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "a&b<c>d", "_x0041_", "_X00ff_", "x\x01y", "\x1f", "tab\there", " lead", "trail\u3000",
                     "line\nbreak", "cr\rlf", "制造业", "'=1+1", "\ufffe", "😀", "q\"uote", "<r>x</r>"]),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12),
)
bools = st.one_of(st.none(), st.booleans())
# decimal texts as the batch writes money: exact as doubles up to 15 significant digits, not past them
decimals = st.one_of(
    st.none(), st.sampled_from(["", "0.00", "2160000.00", "8640000.00288", "0.1", "123456789012345.6", "99999999999999.99",
                                "1000000000000000000", "12345678901234567", "-5.50", "abc"]),
    st.builds(lambda c, k: f"{c // 10**k}.{c % 10**k:0{k}d}" if k else str(c), st.integers(0, 10**17), st.integers(0, 12)),
)


def sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:  # (core.xml holds the time the file was made)
        return {i.filename: z.read(i) for i in z.infolist() if i.filename != "docProps/core.xml"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(texts, bools, texts, decimals), max_size=8), batches=st.integers(1, 3))
@example(rows=[], batches=1)
@example(rows=[("x" * 40_000, True, "😀" * 20_000, "1.5")], batches=1)  # past Excel's 32,767 UTF-16 units: cut
def test_excel_rows_are_the_bytes_xlsxwriter_writes(tmp_path, rows, batches):
    """The same cells, written by BatchWriter (polars, a batch at a time) and by xlsxwriter a
    cell at a time: the same sheet XML, and every other part of the file the same. A column of
    money is numbers with their format where a double holds the decimal exactly (15 significant
    digits), text elsewhere; the header is frozen and filtered."""
    columns = ["text", "flag", "__row", "money"]  # (a column may have any name, the writer's own too)
    df = pl.DataFrame(rows, schema={"text": pl.String, "flag": pl.Boolean, "__row": pl.String, "money": pl.String}, orient="row")
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    with BatchWriter(ours, "xlsx", tmp_path, columns, numbers={"money": "money"}) as writer:
        step = max(1, -(-len(df) // batches))
        for start in range(0, max(len(df), 1), step):
            writer.write(df.slice(start, step))
    book = xlsxwriter.Workbook(str(theirs), EXCEL_OPTIONS)
    sheet = book.add_worksheet("results")
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.set_column(3, 3, None, money)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(df), 3)
    sheet.write_row(0, 0, columns)
    text_numbers = 0
    for i, values in enumerate(df.iter_rows(), start=1):
        # (xlsxwriter writes a text that looks like a rich string, <r>...</r>, as markup; we escape it)
        values = [v.replace("<r>", "&lt;r>") if isinstance(v, str) and v.startswith("<r>") and v.endswith("</r>") else v
                  for v in values]
        for j, value in enumerate(values):  # (cell by cell: write_row stops at a cell it had to cut)
            if j == 3 and value and re.fullmatch(r"-?\d+(\.\d+)?", value):
                if Decimal(repr(float(value))) == Decimal(value) and len(value.replace(".", "").replace("-", "").strip("0")) <= 15:
                    sheet.write_number(i, j, float(value), money)
                    continue
                text_numbers += 1
            if j == 3 and value:
                sheet.write_string(i, j, value)
                continue
            sheet.write(i, j, "" if value is None else value)
    book.close()
    assert writer.text_numbers == text_numbers

    def cells(xml: bytes) -> bytes:
        # (the columns' widths are the writer's own; a number is the same double however written:
        # xlsxwriter writes 17 digits, 67.40000000000001, where the writer writes the decimal, 67.4)
        xml = re.sub(rb"<cols>.*</cols>", b"", xml)
        return re.sub(rb"<v>([-0-9.E+]+)</v>", lambda m: b"<v>" + repr(float(m.group(1))).encode() + b"</v>", xml)

    expected, got = cells(sheet_xml(theirs).replace(b"&amp;lt;r&gt;", b"&lt;r&gt;")), cells(sheet_xml(ours))
    at = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    assert got == expected, f"first difference at byte {at}: {got[at - 40:at + 40]!r} vs {expected[at - 40:at + 40]!r}"
    assert parts(ours).keys() == parts(theirs).keys()
    assert {k: v for k, v in parts(ours).items() if "sheet1" not in k} == \
        {k: v for k, v in parts(theirs).items() if "sheet1" not in k}


def test_column_letters():
    assert [SheetRows.letter(i) for i in (0, 25, 26, 51, 52, 701, 702, 16383)] == \
        ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]
