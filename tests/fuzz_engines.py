"""A long fuzz run of the three engines (#22): generated project-year files, valid and malformed, in
every input format, scored by `fdi batch` in a subprocess; each scored row held to calc (the API), and
each row a SQL table can hold to `fdi sql` in DuckDB. Not collected by pytest; run as

    PYTHONPATH=src python -m tests.fuzz_engines --files 300 --seed 1 --keep /tmp/fuzz-failing

and it prints files, rows, crashes, rows lost, bad stops (exit 2 without one `fdi: error:` line),
calc and SQL disagreements (the goal: zero of each but the first two), with the first examples.
Every failing file is copied to --keep with the command that reproduces it.
"""

import argparse
import csv
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal as D
from decimal import InvalidOperation
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .strategies import (SECTORS, amount_texts, amounts_usd, control_texts, formula_texts, fx_rates, rate_texts,
                         year_texts)
from .test_sql import codes as sql_codes
from .test_sql import kinds as sql_kinds
from .test_sql import sectors as sql_sectors

FIELDS = ["project_id", "year", "kind", "sector", "industry_code", "paid_in", "currency", "shareholder_loans",
          "reinvested_profit", "reinvested_profit_currency", "fx_rate"]
RESULTS = ["policy", "policy_status", "eligible", "tier", "rate", "base_usd", "fx_rate", "fx_source", "base_cny",
           "gross_cny", "capped", "incentive_cny", "reason", "error"]
# (header, scale) per field: units in headers as bureau sheets write them
HEADERS = {
    "project_id": [("project_id", 1), ("项目编号", 1), ("Project ID", 1)],
    "year": [("year", 1), ("年份", 1), (" Year ", 1)],
    "kind": [("kind", 1), ("项目类型", 1)],
    "sector": [("sector", 1), ("行业", 1)],
    "industry_code": [("industry_code", 1), ("行业代码", 1)],
    "paid_in": [("paid_in_usd", 1), ("实际到位外资", 1), ("实际到位外资（万美元）", 10_000), ("paid_in (USD 10k)", 10_000),
                ("实际到位外资(美元)", 1), ("Paid In USD", 1)],
    "shareholder_loans": [("shareholder_loans_usd", 1), ("外方股东贷款(万美元)", 10_000), ("外方股东贷款", 1)],
    "reinvested_profit": [("reinvested_profit", 1), ("利润再投资（千元）", 1000), ("利润再投资（万元）", 10_000),
                          ("利润再投资（千人民币）", 1000), ("reinvested_profit (CNY 1k)", 1000), ("利润再投资", 1)],
    "fx_rate": [("fx_rate", 1), ("汇率", 1)],
}
GBT_SECTORS = ["制造业", "批发和零售业", "批发业", "金融业", "货币金融服务", "房地产业", "租赁和商务服务业", "信息传输、软件和信息技术服务业",
               "制造", "批发和零售", "金融 业", "房地产", "汽车制造", "电子信息"]  # (and near misses)
TOTALS = ["合计", "总计", "小计", "Total"]
TITLES = ["2024年重庆市外资项目到位资金汇总表", "填报单位：市商务委", "单位：万美元", "Report of paid-in capital"]
FORMATS = ["csv-utf8", "csv-bom", "csv-gbk", "xlsx-xlsxwriter", "xlsx-openpyxl", "parquet", "jsonl"]
PLAIN = re.compile(r"-?[0-9]{1,17}(\.[0-9]{1,3})?")  # (ASCII digits: \d takes ١٢ too)
PLAIN_RATE = re.compile(r"[0-9]{1,5}(\.[0-9]{1,9})?")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CANONICAL = {"paid_in": "paid_in", "shareholder_loans": "shareholder_loans_usd", "reinvested_profit": "reinvested_profit"}

texts = st.sampled_from
maybe = st.one_of
near = amounts_usd.map(str)


def scaled(draw, scale: int, odd: int) -> str:
    """An amount text for a column of this scale, mostly a USD value near an edge written in the unit."""
    if draw(st.integers(0, 10)) < odd:
        return draw(maybe(amount_texts, texts(["", "0", "-1", "1e14", "99999999999999.99", "1,000", "1e3"])))
    if scale != 1:
        return format(draw(amounts_usd).scaleb(-len(str(scale)) + 1).normalize(), "f")
    return draw(near)


@st.composite
def files(draw):
    fmt = draw(texts(FORMATS))
    # (half the CSV files are shaped as the SQL table is: amounts in USD, profits with their currency)
    sqlish = fmt.startswith("csv") and draw(st.booleans())
    heads = {"project_id": draw(texts(HEADERS["project_id"])), "year": draw(texts(HEADERS["year"])),
             "paid_in": draw(texts([h for h in HEADERS["paid_in"] if h[1] == 1 or not sqlish]))}
    for f in ("kind", "sector", "industry_code", "shareholder_loans", "reinvested_profit", "fx_rate"):
        if draw(st.integers(0, 2)) or (f == "sector" and "industry_code" not in heads):
            heads[f] = draw(texts(HEADERS[f]))
    if sqlish:
        heads.pop("shareholder_loans", None)
        if "reinvested_profit" in heads:
            heads["reinvested_profit"] = ("reinvested_profit", 1)
            heads["reinvested_profit_currency"] = ("reinvested_profit_currency", 1)
    elif heads["paid_in"][1] == 1 and draw(st.integers(0, 4)) == 0:
        heads["paid_in"], heads["currency"] = ("paid_in", 1), ("currency", 1)
    if "reinvested_profit" in heads and heads["reinvested_profit"][1] == 1 and draw(st.booleans()):
        heads["reinvested_profit_currency"] = ("reinvested_profit_currency", 1)
    rows = []
    odd = draw(st.sampled_from([0, 1, 3, 10]))  # (how often a cell is malformed: 1 in 11 .. 10 in 11)

    def one(good, bad):
        return draw(bad if draw(st.integers(0, 10)) < odd else good)

    for i in range(draw(st.integers(1, 25))):
        r = {"project_id": f"P{i}", "year": one(st.integers(2017, 2027).map(str), year_texts),
             "kind": one(texts(["new", "capital_increase", "增资", "新设", ""]), sql_kinds.map(lambda k: k or "")),
             "sector": one(maybe(texts(sorted(SECTORS)), texts(GBT_SECTORS[:8])),
                           maybe(texts(GBT_SECTORS), sql_sectors.map(lambda s: s or ""))),
             "industry_code": one(texts(["", "C", "C3670", "36", "K70", "J66", "L7212", "F", "I65"]),
                                  sql_codes.map(lambda c: c or "")),
             "currency": one(texts(["USD", "", "usd"]), texts(["EUR", "CNY", "美元", "XXX"])),
             "reinvested_profit_currency": one(texts(["USD"] if sqlish else ["CNY", "", "USD"]),
                                               texts(["人民币", "EUR", "usd", "CNY"])),
             "fx_rate": one(maybe(fx_rates.map(str), st.just("")), rate_texts)}
        for f in ("paid_in", "shareholder_loans", "reinvested_profit"):
            r[f] = scaled(draw, heads[f][1], odd) if f in heads else ""
        if "sector" in heads and "industry_code" in heads and draw(st.booleans()):
            r[draw(texts(["sector", "industry_code"]))] = ""  # a code or a name alone
        rows.append(r)
    extras = draw(st.lists(texts(["note", "备注", "paid_in_usd", "年份"]), max_size=2, unique=True))
    notes = draw(st.lists(maybe(formula_texts, control_texts, texts(["", "x", "说明"])), min_size=1, max_size=5))
    return {"heads": heads, "rows": rows, "extras": extras, "notes": notes, "format": fmt,
            "totals": draw(st.lists(st.tuples(st.integers(0, 25), texts(TOTALS), st.booleans()), max_size=2)),
            "blanks": draw(st.lists(st.integers(0, 25), max_size=3)) if fmt.startswith(("csv", "xlsx")) else [],
            "titles": draw(st.lists(texts(TITLES), max_size=2)) if fmt.startswith(("csv", "xlsx")) else [],
            "shuffle": draw(st.randoms(use_true_random=False)) if draw(st.booleans()) else None,
            "fx": draw(maybe(st.none(), st.none(), fx_rates.map(str))),
            "policy": draw(texts([None, None, "cn-cq-2018", "cn-cq-2023"]))}


# --- writing the file -------------------------------------------------------------------------------

def table_of(spec) -> tuple[list[str], list[str], list[list[str]], list[bool]]:
    """(header, the field of each column, the rows of cells with blank lines as None, which rows are totals)."""
    if "table" in spec:
        return spec["table"]
    heads = spec["heads"]
    fields = list(heads)
    header = [heads[f][0] for f in fields]
    for extra in spec["extras"]:  # a note column, or the exact same header twice (the same values)
        same = {"paid_in_usd": "paid_in", "年份": "year"}.get(extra)
        if same in heads and spec["format"] not in ("parquet", "jsonl"):
            fields.append(same)
            header.append(heads[same][0])
        elif extra in ("note", "备注"):
            fields.append("note")
            header.append(extra)
    if spec["shuffle"] is not None:
        order = list(range(len(fields)))
        spec["shuffle"].shuffle(order)
        fields, header = [fields[i] for i in order], [header[i] for i in order]
    notes = spec["notes"]
    body, total = [], []
    for i, r in enumerate(spec["rows"]):
        body.append([notes[i % len(notes)] if f == "note" else r[f] for f in fields])
        total.append(False)
    for at, word, right in spec["totals"]:  # a 合计 row: the sums above it, or another figure
        at = min(at, len(body))
        cells = []
        for f in fields:
            if f == "project_id":
                cells.append(word)
            elif f in ("paid_in", "shareholder_loans", "reinvested_profit"):
                try:
                    s = sum((D(b[fields.index(f)] or 0) for b, t in zip(body[:at], total[:at]) if not t), D(0))
                    cells.append(str(s) if right else str(s + 1))
                except (InvalidOperation, ValueError):
                    cells.append("1")
            else:
                cells.append("")
        body.insert(at, cells)
        total.insert(at, True)
    spec["table"] = header, fields, body, total
    return spec["table"]


def xlsx_cell(text: str):
    """A number where the text is one that a double holds exactly, else the text."""
    if re.fullmatch(r"[0-9]{1,15}", text):
        return int(text)
    return text


def write(spec, path: Path) -> Path:
    header, _, body, _ = table_of(spec)
    fmt = spec["format"]
    lines: list[list[str] | None] = [[t] for t in spec["titles"]] + [header]
    data = list(body)
    for at in sorted(spec["blanks"], reverse=True):
        data.insert(min(at, len(data)), None)
    lines += data
    if fmt.startswith("csv"):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n" if fmt == "csv-bom" else "\n")
        for line in lines:
            buf.write("\n") if line is None else w.writerow(line)
        text = buf.getvalue()
        enc = {"csv-utf8": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk"}[fmt]
        try:
            raw = text.encode(enc)
        except UnicodeEncodeError:
            raw, spec["format"] = text.encode("utf-8-sig"), "csv-bom"  # (a text GBK cannot hold)
        (path := path.with_suffix(".csv")).write_bytes(raw)
    elif fmt == "xlsx-xlsxwriter":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path := path.with_suffix(".xlsx")), {"strings_to_numbers": False})
        ws = wb.add_worksheet("项目")
        for y, line in enumerate(lines):
            for x, c in enumerate(line or []):
                v = xlsx_cell(c)
                ws.write_number(y, x, v) if isinstance(v, int) else ws.write_string(y, x, v)
        wb.close()
    elif fmt == "xlsx-openpyxl":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        for y, line in enumerate(lines, start=1):
            for x, c in enumerate(line or [], start=1):
                cell = ws.cell(y, x, xlsx_cell(c))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # (a text starting with = is a text, not a formula)
        wb.save(path := path.with_suffix(".xlsx"))
    elif fmt == "parquet":
        import polars as pl

        pl.DataFrame({h: [r[i] for r in body] for i, h in enumerate(header)}, schema={h: pl.String for h in header}
                     ).write_parquet(path := path.with_suffix(".parquet"))
    else:
        with (path := path.with_suffix(".jsonl")).open("w", encoding="utf-8") as f:
            for r in body:
                f.write(json.dumps(dict(zip(header, r)), ensure_ascii=len(r) % 2 == 0) + "\n")
    return path


def clean(spec) -> None:
    """Workbooks cannot hold control characters: the rows are changed before anything is compared."""
    if spec["format"].startswith("xlsx"):
        for r in spec["rows"]:
            for k, v in r.items():
                r[k] = CONTROL.sub("", v)
        spec["notes"] = [CONTROL.sub("", n) for n in spec["notes"]]


# --- the three engines ------------------------------------------------------------------------------

def calc_of(r: dict, heads: dict, spec) -> dict | str:
    """What calc (the API) makes of the row's texts: incentive_cny, tier, eligible; or its error."""
    from fdi_incentive import FdiError, Project, assess
    from fdi_incentive.money import parse_amount

    def amount(f: str):
        text = r[f] if f in heads else ""
        if not text.strip():
            return "0"
        scale = heads[f][1]
        return text if scale == 1 else str(parse_amount(text, CANONICAL[f], scale=D(scale)))

    def cell(f: str, default=None):  # (a cell of blanks in a file gives nothing, as an empty one)
        return r[f] if f in heads and r[f].strip() else default

    try:
        project = Project.for_year(
            r["year"], paid_in=amount("paid_in"), currency=cell("currency", "USD"),
            shareholder_loans_usd=amount("shareholder_loans"), reinvested_profit=amount("reinvested_profit"),
            reinvested_profit_currency=cell("reinvested_profit_currency", "CNY"), kind=cell("kind", "new"),
            sector=cell("sector"), industry_code=cell("industry_code"), id=r["project_id"])
        fx = cell("fx_rate", spec["fx"])
        y = assess(project, fx=fx, policy=spec["policy"]).years[0]
    except FdiError as e:
        return str(e)
    return {"incentive_cny": str(y.incentive_cny), "tier": y.tier or "", "eligible": str(y.eligible).lower()}


@cache
def statement(policy: str | None, fx: str | None) -> str:
    """`fdi sql --inline`'s statement, its messages naming the options as the command line's do (as batch's cells)."""
    from fdi_incentive.cli_base import OPTIONS
    from fdi_incentive.errors import called_as
    from fdi_incentive.policy import get_policy
    from fdi_incentive.sql import SqlOptions, compile_sql

    with called_as({name: OPTIONS[name] for name in ("fx", "fx_table")}):
        return compile_sql("duckdb", SqlOptions(policy=get_policy(policy) if policy else None, fx_rate=D(fx) if fx else None,
                                                inline=True))


def sql_row(r: dict, heads: dict) -> tuple | None:
    """The row as the SQL table holds it (amounts in USD), or None where a cell is no plain number."""
    if any(h[1] != 1 for f, h in heads.items() if f in ("paid_in", "shareholder_loans")) or "currency" in heads:
        return None
    year = r["year"]
    if not re.fullmatch(r"-?[0-9]{1,9}", year):
        return None
    amounts = []
    for f in ("paid_in", "shareholder_loans", "reinvested_profit"):
        text = r[f] if f in heads else ""
        if f == "reinvested_profit" and text.strip():
            currency = r["reinvested_profit_currency"] if "reinvested_profit_currency" in heads else ""
            if currency.strip().upper() != "USD" or heads[f][1] != 1:
                return None  # (the SQL takes profits in USD)
        if text == "":
            amounts.append(None)
        elif PLAIN.fullmatch(text):
            amounts.append(D(text))
        else:
            return None
    fx = r["fx_rate"] if "fx_rate" in heads else ""
    if fx != "" and not PLAIN_RATE.fullmatch(fx):
        return None
    text = {f: (r[f] if f in heads else "") or None for f in ("kind", "sector", "industry_code")}
    return (r["project_id"], int(year), text["kind"], text["sector"], text["industry_code"], *amounts,
            D(fx) if fx else None)


def duckdb_rows(rows: list[tuple], spec) -> dict[str, dict]:
    import duckdb

    con = duckdb.connect()
    con.execute("""CREATE TABLE projects (project_id VARCHAR, year INTEGER, kind VARCHAR, sector VARCHAR,
        industry_code VARCHAR, paid_in_usd DECIMAL(20, 3), shareholder_loans_usd DECIMAL(20, 3),
        reinvested_profit_usd DECIMAL(20, 3), fx_rate DECIMAL(14, 9))""")
    con.executemany("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    cur = con.execute(statement(spec["policy"], spec["fx"]))
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


# --- one file ---------------------------------------------------------------------------------------

counts = {"files": 0, "rows": 0, "crashes": 0, "rows lost": 0, "bad stops": 0, "calc disagreements": 0,
          "SQL disagreements": 0, "files stopped (exit 2)": 0, "rows compared with calc": 0,
          "rows compared with SQL": 0, "rows not SQL-typed (skipped)": 0}
examples: list[str] = []
kinds: dict[str, int] = {}
stops: dict[str, int] = {}


class Fuzz:
    def __init__(self, work: Path, keep: Path | None):
        self.work, self.keep, self.n = work, keep, 0

    def note(self, kind: str, what: object, src: Path, cmd: list[str], why: object = None) -> None:
        """Count a failure; the first example of each kind of it (``why``, values elided) is printed."""
        counts[kind] += 1
        why = what if why is None else why
        text = " / ".join(map(str, why)) if isinstance(why, (tuple, list)) else str(why)
        key = kind + ": " + re.sub(r"'[^']*'|\d+", "…", text)[:160]
        kinds[key] = kinds.get(key, 0) + 1
        if kinds[key] == 1 and len(examples) < 20:
            examples.append(f"{kind}: {what!r}"[:700])
        if self.keep and not (self.keep / src.name).exists():
            self.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, self.keep / src.name)
            (self.keep / (src.name + ".txt")).write_text(
                f"{kind}: {what!r}\n\n{' '.join(cmd[2:]).replace(str(self.work) + '/', '')}\n", encoding="utf-8")

    def one_file(self, spec) -> None:
        self.n += 1
        clean(spec)
        src = write(spec, self.work / f"f{self.n:05d}-{spec['format']}")
        out, summary = self.work / "out.csv", self.work / "summary.json"
        out.unlink(missing_ok=True), summary.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "fdi_incentive", "batch", str(src), "-o", str(out), "--summary-json", str(summary),
               "--no-progress"]
        cmd += ["--fx-rate", spec["fx"]] if spec["fx"] else []
        cmd += ["--policy", spec["policy"]] if spec["policy"] else []
        header, fields, body, total = table_of(spec)
        counts["files"] += 1
        if counts["files"] % 50 == 0:
            print(f"{counts['files']} files ...", file=sys.stderr, flush=True)
        counts["rows"] += len(body)
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=self.work)
        except subprocess.TimeoutExpired:
            self.note("crashes", "timeout", src, cmd)
            return
        if run.returncode not in (0, 1, 2) or "Traceback" in run.stderr:
            self.note("crashes", (run.returncode, run.stderr[-400:]), src, cmd)
            return
        if run.returncode == 2:
            counts["files stopped (exit 2)"] += 1
            lines = [x for x in run.stderr.splitlines() if x.strip()]
            if len(lines) != 1 or not lines[0].startswith("fdi: error:"):
                self.note("bad stops", run.stderr[-400:], src, cmd)
            else:
                key = re.sub(r"'[^']*'|\d+", "…", lines[0])[:110]
                stops[key] = stops.get(key, 0) + 1
            return
        got_summary = json.loads(summary.read_text(encoding="utf-8"))
        with out.open(encoding="utf-8-sig", newline="") as f:
            got = list(csv.reader(f))
        names = got[0][-len(RESULTS):]
        results = [dict(zip(names, g[-len(RESULTS):])) for g in got[1:]]
        if len(results) != len(body) or got_summary["rows"] != len(body):
            self.note("rows lost", (len(body), len(results), got_summary["rows"]), src, cmd)
            return
        data = [r for r, t in zip(results, total) if not t]
        heads = spec["heads"]
        for r, g in zip(spec["rows"], data):
            if g["error"]:
                continue
            counts["rows compared with calc"] += 1
            want = calc_of(r, heads, spec)
            have = {k: g[k] for k in ("incentive_cny", "tier", "eligible")}
            if want != have:
                self.note("calc disagreements", (r, spec["fx"], spec["policy"], "calc:", want, "batch:", have), src, cmd,
                          (want if isinstance(want, str) else "calc scored", have))
        if spec["format"].startswith("csv"):
            self.compare_sql(spec, data, src, cmd)

    def compare_sql(self, spec, data: list[dict], src: Path, cmd: list[str]) -> None:
        typed = [(sql_row(r, spec["heads"]), g) for r, g in zip(spec["rows"], data)]
        counts["rows not SQL-typed (skipped)"] += sum(1 for t, _ in typed if t is None)
        typed = [(t, g) for t, g in typed if t is not None]
        if not typed:
            return
        sql = duckdb_rows([t for t, _ in typed], spec)
        for t, g in typed:
            counts["rows compared with SQL"] += 1
            s = sql[t[0]]
            want = (D(g["incentive_cny"]) if g["incentive_cny"] else None, g["reason"] or None, g["error"] or None)
            have = (s["incentive_cny"], s["reason"] or None, s["error"] or None)
            if want != have:
                self.note("SQL disagreements", (t, spec["fx"], spec["policy"], "batch:", want, "sql:", have), src, cmd,
                          [(w, h) for w, h in zip(want, have) if w != h])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="a folder for every failing file and its command")
    args = parser.parse_args(argv)
    for k in counts:
        counts[k] = 0
    examples.clear()
    kinds.clear()
    stops.clear()
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        fuzz = Fuzz(Path(tmp), args.keep.resolve() if args.keep else None)

        @seed(args.seed)
        @settings(max_examples=args.files, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(files())
        def run(spec):
            fuzz.one_file(spec)

        run()
    seconds = time.monotonic() - start
    print(f"PYTHONPATH=src python -m tests.fuzz_engines --files {args.files} --seed {args.seed}")
    print("| " + " | ".join(counts) + " | seconds |")
    print("|" + "---|" * (len(counts) + 1))
    print("| " + " | ".join(f"{v:,}" for v in counts.values()) + f" | {seconds:,.0f} |")
    if stops:
        print("exit 2 messages (values and numbers elided):")
        for k, v in sorted(stops.items(), key=lambda kv: -kv[1]):
            print(f"  {v:4} {k}")
    if kinds:
        print("failures by kind (values and numbers elided):")
        for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  {v:4} {k}")
    print("first example of each kind:")
    for line in examples:
        print(" ", line)
    failed = ("crashes", "rows lost", "bad stops", "calc disagreements", "SQL disagreements")
    return 0 if not any(counts[k] for k in failed) else 1


if __name__ == "__main__":
    sys.exit(main())
