"""The apps are layers: core -> inventory -> hcx -> migrations_app, each importing only the ones below it,
and no two modules importing each other, however indirectly.

Every module of the four apps is parsed (imports inside functions count: they run too). avsportal/
(settings, URLs) joins the apps together and may import them all; the tests do too. A page that shows
several apps lives in the highest app it shows; where a lower app needs a higher one to act (a job's
handler, a notification), the lower one offers a registry and the higher one fills it.
"""

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "inventory", "hcx", "migrations_app"]
RANK = {app: rank for rank, app in enumerate(LAYERS)}
# (importer, imported, why): imports allowed against the rules. Kept empty: add one only with a reason.
EXCEPTIONS: list[tuple[str, str, str]] = []


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    modules = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            if path.parent == ROOT / app / "migrations":
                continue  # Django migrations name models by label, and are applied, not imported
            modules[module_name(path)] = path
    return modules


def imports(name: str, path: Path, modules) -> list[tuple[str, int]]:
    """(imported module of ours, line) for every import statement in the module, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def ours(target: str) -> str | None:  # the module a dotted name lands in (a name in it: that module)
        parts = target.split(".")
        while parts and ".".join(parts) not in modules:
            parts.pop()
        return ".".join(parts) or None

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            # `from pkg import module` imports that module; `from pkg import name` imports pkg itself
            submodules = [
                f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules
            ]
            targets = submodules + ([source] if len(submodules) < len(node.names) else [])
        else:
            continue
        for target in targets:
            module = ours(target) if target.split(".")[0] in RANK else None
            if module and module != name:
                found.append((module, node.lineno))
    return found


def import_graph() -> nx.DiGraph:
    modules = our_modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for module, line in imports(name, path, modules):
            graph.add_edge(name, module, line=line)
    return graph


def allowed(importer: str, imported: str) -> bool:
    return any(importer == a and imported == b for a, b, _ in EXCEPTIONS)


def test_every_app_imports_only_the_apps_below_it():
    graph = import_graph()
    upward = [
        f"{a} (line {graph.edges[a, b]['line']}) imports {b}"
        for a, b in graph.edges
        if RANK[b.split(".")[0]] > RANK[a.split(".")[0]] and not allowed(a, b)
    ]
    assert upward == [], (
        "imports that run up the layers core -> inventory -> hcx -> migrations_app:\n"
        + "\n".join(sorted(upward))
    )


def test_no_modules_import_each_other():
    graph = import_graph()
    graph.remove_edges_from([(a, b) for a, b, _ in EXCEPTIONS])
    cycles = [" -> ".join([*cycle, cycle[0]]) for cycle in nx.simple_cycles(graph, length_bound=10)]
    assert cycles == [], "modules that import each other (through the ones between):\n" + "\n".join(
        sorted(cycles)
    )


def test_the_check_sees_imports_inside_functions_and_relative_ones():
    """The scanner itself: a lazy import and a relative one are found; a submodule imported from its
    package does not count as importing the package's own __init__."""
    graph = import_graph()
    assert graph.has_edge("core.models", "core.choices")  # `from .choices import ...`
    assert graph.has_edge("hcx.setup.connect", "hcx.avs_inventory")  # inside keep_avs_inventory()
    assert graph.has_edge("hcx.client.appliance", "hcx.client.polling")  # `from . import polling`
    assert not graph.has_edge("hcx.client.appliance", "hcx.client")
