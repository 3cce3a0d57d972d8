"""The module graph of `src/sdbridge`: no import cycle, between modules or between packages,
and dependencies point down (cli -> runner/pipeline -> rules, mapping, store, pushback ->
connectors' clients -> http). Imports inside functions count too, and so do dynamic ones: a
`"sdbridge.x.y:attr"` string a plugin loader imports, an `importlib`/`__import__` of a
literal name. A cycle hidden in a function or a string is still a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


DYNAMIC = re.compile(r"sdbridge(\.[a-z_][a-z0-9_]*)+(:[A-Za-z_][A-Za-z0-9_]*)?")
"""A module named in a string: `sdbridge.connectors.jira:JiraConnector`."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SRC.joinpath("sdbridge").rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        loggers = {  # `logging.getLogger("sdbridge.store")` names a logger, not a module
            id(arg)
            for call in ast.walk(tree)
            if isinstance(call, ast.Call) and ast.unparse(call.func).endswith("getLogger")
            for arg in call.args
        }
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(
                        package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                    )
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
                ]
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and DYNAMIC.fullmatch(node.value)
                and id(node) not in loggers
            ):
                targets = [node.value.partition(":")[0]]  # a module a loader imports by name
            if isinstance(node, ast.JoinedStr):  # f"sdbridge.reports.{name}": the package at least
                head = node.values[0] if node.values else None
                if isinstance(head, ast.Constant) and str(head.value).startswith("sdbridge."):
                    targets = [str(head.value).rstrip(".")]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if not target or target == name or not target.startswith("sdbridge"):
                    continue
                graph[name].add(target)
                parent = target.rpartition(".")[0]
                while parent and parent != "sdbridge":  # importing a.b.c runs a.b's __init__ first
                    if parent != name and not name.startswith(parent + "."):
                        graph[name].add(parent)
                    parent = parent.rpartition(".")[0]
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_cycle():
    assert cycles(import_graph()) == []


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between top-level parts: `sdbridge.pushback.plan` is `sdbridge.pushback`, a
    module directly under `sdbridge` is itself."""

    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    packages: dict[str, set[str]] = {part(m): set() for m in graph}
    for module, targets in graph.items():
        packages[part(module)] |= {part(t) for t in targets if part(t) != part(module)}
    return packages


def test_there_is_no_cycle_between_packages():
    assert cycles(package_graph(import_graph())) == []


def test_the_marker_and_the_planner_load_no_store_and_no_pandas():
    """Importing how sdbridge's comments are recognised, or push-back's planner types, must
    not pull the store, SQLAlchemy or pandas in (the connectors and the registry import the
    marker)."""
    import subprocess
    import sys

    probe = (
        "import sys, sdbridge.marker, sdbridge.pushback; "
        "print(sorted(m for m in ('pandas', 'sqlalchemy', 'sdbridge.store') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("sdbridge.connectors", "sdbridge.pushback"),
        ("sdbridge.connectors", "sdbridge.runner"),
        ("sdbridge.connectors", "sdbridge.registry"),
        ("sdbridge.reports", "sdbridge.connectors"),
        ("sdbridge.rules", "sdbridge.connectors"),
        ("sdbridge.store", "sdbridge.pushback"),
        ("sdbridge.pushback", "sdbridge.runner"),
        ("sdbridge.http", "sdbridge.connectors"),
    ],
)
def test_dependencies_point_down(lower, upper):
    graph = import_graph()
    offending = sorted(
        f"{m} -> {t}" for m, targets in graph.items() if m.startswith(lower) for t in targets if t.startswith(upper)
    )
    assert offending == []


def test_the_graph_sees_real_imports():
    graph = import_graph()
    assert "sdbridge.connectors.jira_client" in graph["sdbridge.connectors.jira"]
    assert "sdbridge.registry" in graph["sdbridge.runner"]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert "sdbridge.connectors.jira" in graph["sdbridge.registry"]  # named in a "module:Class" string
    assert "sdbridge.reports" in graph["sdbridge.reports"] or "sdbridge.reports.html" in graph["sdbridge.reports"]


MAX_MODULE_LINES = 600


def test_no_module_outgrows_one_reading():
    """A module past 600 lines holds more than one concern: split it by meaning (see
    CONTRIBUTING.md) rather than let it grow."""
    long = {
        str(path.relative_to(SRC)): lines
        for path in SRC.joinpath("sdbridge").rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) >= MAX_MODULE_LINES
    }
    assert long == {}


def test_test_modules_share_helpers_not_each_other():
    """What several test modules use (a fake server as a fixture, a config writer) lives in a
    helper module under tests/, never in a test module another one imports."""
    tests = SRC.parent / "tests"
    borrowing = {
        str(path.relative_to(tests)): node.module
        for path in tests.rglob("test_*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").rpartition(".")[2].startswith("test_")
    }
    assert borrowing == {}


def test_the_help_loads_no_data_library_and_no_package_metadata():
    """`sdbridge --help` and `--version` answer at once: the command's face imports no data
    library, no store and no installed-package metadata (plugins are looked up when a name
    needs one)."""
    import subprocess
    import sys

    probe = (
        "import sys, contextlib, io\n"
        "from sdbridge.cli import main\n"
        "sys.argv = ['sdbridge', '--help']\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main()\n"
        "heavy = ('pandas', 'pyarrow', 'numpy', 'sqlalchemy', 'pydantic', 'importlib.metadata', 'sdbridge.store')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
