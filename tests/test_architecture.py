"""The package's shape: no import cycle (counting imports inside functions, which are no way out
of one), and a map in docs/architecture.md that names only modules that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "addin" / "minsheng"


# The pipeline's stages, lowest first. A module imports only from a lower stage or its own folder;
# the shared modules at the top import none of the stages, and the edges (commands, add-in) any.
STAGES = ("untrusted", "register", "forms", "intake", "assess", "record", "report", "circular")
EDGES = {"pipeline", "cli", "addin", "xlam", "workfolder", "simulate", "entry", "__main__"}
PEERS = {"report": 7, "circular": 7}  # both render the period's result; neither imports the other


def _modules() -> dict[str, Path]:
    """Dotted name under the package (``assess.status``, ``model``) → file."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"] = path
    return found


def _imports() -> dict[str, set[str]]:
    """Module → the package's modules it imports, wherever in the file (inside functions too)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".")[:-1] if path.stem != "__init__" else name.split(".")
        if name == "__init__":
            package = []
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                stem = base + (node.module.split(".") if node.module else [])
            elif (node.module or "").startswith("minsheng."):
                stem = node.module.split(".")[1:]
            else:
                continue
            dotted = ".".join(stem)
            for alias in node.names:
                child = f"{dotted}.{alias.name}" if dotted else alias.name
                found.add(child if child in modules else dotted or "__init__")
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _level(module: str) -> int:
    """0 for the shared modules, 1… for the stages in order, 99 for the edges."""
    top = module.split(".")[0]
    if top in STAGES:
        return PEERS.get(top, STAGES.index(top) + 1)
    return 99 if top in EDGES else 0


def _upward(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, imported in sorted(graph.items()):
        if _level(module) == 99:
            continue
        for other in sorted(imported):
            same_folder = "." in module and module.split(".")[0] == other.split(".")[0]
            if not same_folder and _level(other) >= _level(module) and not (_level(module) == 0 == _level(other)):
                wrong.append(f"{module} → {other}")
    return wrong


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


def test_no_stage_imports_a_later_one():
    assert _upward(_imports()) == []


def test_the_stage_check_finds_an_upward_import():
    assert _upward({"assess.period": {"report.detail", "intake.collect", "model"}, "model": {"cells"},
                    "report.detail": {"circular.annex"}, "cli": {"circular.document"}}) == [
        "assess.period → report.detail", "report.detail → circular.annex"]


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_every_module_the_architecture_map_names_exists():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `([\w.]+)` \|", text, re.M))
    assert named, "the map's table of modules"
    assert named <= set(_modules())


def test_every_section_docstrings_cite_is_in_the_formats_page():
    sections = set(re.findall(r"^## §(\d+) ", (ROOT / "docs" / "formats.md").read_text(encoding="utf-8"), re.M))
    cited = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "SPEC §" not in text, path.name  # the project's own page, not a document it does not hold
        for match in re.finditer(r"formats §(\d+)(?: and §(\d+))?", text):
            cited.update(n for n in match.groups() if n)
    assert cited and cited <= sections
