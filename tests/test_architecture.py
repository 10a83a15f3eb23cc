"""The package's shape: no import cycle (counting imports inside functions, which are no way out
of one), and a map in docs/architecture.md that names only modules that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "addin" / "minsheng"


def _imports() -> dict[str, set[str]]:
    """Module → the package's modules it imports, wherever in the file."""
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name in modules:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("minsheng."):
                found.add(node.module.split(".")[1])
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_the_package_has_no_import_cycle():
    assert _cycle(_imports()) == []


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_every_module_the_architecture_map_names_exists():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert named, "the map's table of modules"
    assert named <= {path.stem for path in PACKAGE.glob("*.py")}


def test_every_section_docstrings_cite_is_in_the_formats_page():
    sections = set(re.findall(r"^## §(\d+) ", (ROOT / "docs" / "formats.md").read_text(encoding="utf-8"), re.M))
    cited = set()
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "SPEC §" not in text, path.name  # the project's own page, not a document it does not hold
        for match in re.finditer(r"formats §(\d+)(?: and §(\d+))?", text):
            cited.update(n for n in match.groups() if n)
    assert cited and cited <= sections
