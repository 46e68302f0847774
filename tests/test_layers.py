"""The package's layers: imports run one way, core <- loaders <- endpoint <- CLI and API.

Read from the source (every import statement, at module level or inside a function), so a
lazy import cannot hide a wrong-way dependency or a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Import name prefix -> folder, as pyproject.toml maps them.
FOLDERS = {
    "practicebank.loaders": ROOT / "loaders",
    "practicebank.endpoint": ROOT / "endpoint",
    "practicebank.ontology": ROOT / "ontology",
    "practicebank.shapes": ROOT / "shapes",
    "practicebank.data": ROOT / "data",
    "practicebank": ROOT / "practicebank",
}
#: The top: what a user runs or imports first; it may import anything.
TOP = {"practicebank", "practicebank.cli", "practicebank.api", "practicebank.__main__"}
LAYERS = {"core": 0, "loaders": 1, "endpoint": 2, "top": 3}


def layer(module: str) -> str:
    if module in TOP:
        return "top"
    if module.startswith("practicebank.loaders"):
        return "loaders"
    if module.startswith("practicebank.endpoint"):
        return "endpoint"
    return "core"  # practicebank.<module>, and the data packages (ontology, shapes, data)


def modules() -> dict[str, Path]:
    """Every module of the package, by import name."""
    found = {}
    for prefix, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            if "instance" in path.parts:
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join([prefix, *parts])
            if prefix == "practicebank" and parts and f"practicebank.{parts[0]}" in FOLDERS:
                continue
            found.setdefault(name, path)
    return found


MODULES = modules()


def imports(name: str, path: Path) -> set[str]:
    """The package modules ``name`` imports, anywhere in it except ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            for alias in node.names:  # "from package import module" names a module
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name, path) for name, path in MODULES.items()}


def test_the_package_is_read_whole():
    assert {"practicebank.store", "practicebank.loaders.load", "practicebank.endpoint.sparql",
            "practicebank.cli", "practicebank.api"} <= set(MODULES)
    assert "practicebank.store" in GRAPH["practicebank.loaders.load"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_one_way(name):
    """core <- loaders <- endpoint <- top: nothing imports a layer above its own."""
    wrong = sorted(m for m in GRAPH[name] if LAYERS[layer(m)] > LAYERS[layer(name)])
    assert not wrong, f"{name} ({layer(name)}) imports {wrong} from a layer above it"


def test_no_module_imports_itself_through_others():
    """No circles among modules, lazy imports included."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for other in sorted(GRAPH[name]):
            if other.startswith(name + "."):
                continue  # a package importing its own modules is not a circle
            if state.get(other) == 1:
                circle = path[path.index(other):] + [other]
                if not any(b.startswith(a + ".") for a, b in zip(circle, circle[1:],
                                                                  strict=False)):
                    pytest.fail("import circle: " + " -> ".join(circle))
            elif other not in state:
                visit(other)
        path.pop()
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)
