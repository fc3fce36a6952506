"""How the package is layered: imports flow one way (no module reaches, even inside a function,
into a module that imports it back), and `fdi calc` loads only what it uses."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "fdi_incentive"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each module of the package -> the package's modules it imports, wherever in the file
    (at the top, inside a function, or only for type checkers)."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                candidates = [f"{target}.{a.name}".strip(".") for a in node.names] + [target]
                found |= {c for c in candidates if c in modules and c != name}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                absolute = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found |= {m.removeprefix("fdi_incentive.") for m in absolute if m.startswith("fdi_incentive.")} & set(modules)
        graph[name] = found
    return graph


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_messages_errors_and_text_import_one_way():
    """i18n (the language of messages) is at the bottom, text (a value made safe to show) on it,
    errors on both, language (checking a language a caller names) on errors; none imports back a
    module that imports it."""
    graph = _imports()
    assert graph["i18n"] == set()
    assert graph["text"] <= {"i18n"}
    assert graph["errors"] <= {"i18n", "text"}
    assert graph["language"] <= {"i18n", "text", "errors"}  # (a language a caller names, checked: above errors)
    for name in ("i18n", "text", "errors", "language"):
        assert name not in _reaches(graph, name), f"{name} is in an import circle"


# what a one-year `fdi calc` with a given rate must not load: the engines of `fdi batch` and
# `fdi sql`, file formats, Babel (catalogues are compiled), the embedded ECB rates
NOT_FOR_CALC = ("polars", "sqlglot", "duckdb", "pyarrow", "openpyxl", "fastexcel", "pyspark", "babel", "currency_converter",
                "fdi_incentive.frame", "fdi_incentive.sql", "fdi_incentive.spark", "fdi_incentive.batch",
                "fdi_incentive.ledger", "fdi_incentive.plan", "fdi_incentive.io")
LOADED = """
import contextlib, io, json, sys
from fdi_incentive.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _loaded_by(*args: str) -> dict:
    import json

    done = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_calc_loads_only_what_it_uses():
    """`fdi calc` for one year at a given rate, table or JSON, answers without loading polars, sqlglot,
    DuckDB, Babel or the ECB rates, nor fdi's batch, SQL or planning modules."""
    for extra in ([], ["--json"], ["--lang", "zh"]):
        run = _loaded_by("calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "40000000",
                         "--fx-rate", "7.1", *extra)
        assert run["code"] == 0 and ("10,000,000.00" in run["out"] or "\"10000000.00\"" in run["out"]), run["out"]
        loaded = [m for m in run["modules"] if any(m == name or m.startswith(name + ".") for name in NOT_FOR_CALC)]
        assert loaded == [], f"fdi calc {' '.join(extra)} loaded {loaded}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle of ``graph``: one per strongly connected component of more than one module
    (or a module that imports itself), named by its modules, sorted (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_cycles_are_found():
    """The walker names a circle of three and leaves a chain alone."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_circles():
    """No module of the package imports, even inside a function or for type checkers, a module that
    imports it back (directly or through others): the package reads from the bottom up."""
    circles = _cycles(_imports())
    assert circles == [], "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_reading_files_does_not_reach_an_engine():
    """Readers, writers and the ledger take what they share with the batch engine (cents, rates x 10^8,
    `csv_field`, `Options`) from the modules below both, never from frame.py or the other engines."""
    graph = _imports()
    engines = {"frame", "engine", "sql", "spark", "batch", "plan"}
    files = [m for m in graph if m.startswith("io.") or m.startswith("ledger") or m in ("io", "scaled", "options", "scored")]
    for name in files:
        reached = engines & (_reaches(graph, name) | {name})
        assert not reached, f"{name} reaches {sorted(reached)}"
