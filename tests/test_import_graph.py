"""No import circle anywhere in the three packages, counting every import (module level, in functions, under
TYPE_CHECKING) between any two modules, a package's `__init__` included.

`lint-imports` (pyproject.toml) checks the layers and that sibling modules never import each other in a circle;
this adds the circles it does not see: a package and its own modules (a registry in `__init__` that its modules
import while it imports them) and circles through the bottom of a layer.
"""

from __future__ import annotations

import grimp

PACKAGES = ("series", "monitor", "reports")


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_packages_have_no_import_circle() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert circles(graph) == []


def test_a_circle_is_found() -> None:
    # The finder itself: a graph with one circle of three and a module outside it.
    graph = grimp.ImportGraph()
    for importer, imported in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.d", "p.a")):
        graph.add_import(importer=importer, imported=imported)
    assert circles(graph) == [["p.a", "p.b", "p.c"]]


def test_every_module_of_monitor_is_in_a_layer() -> None:
    # A new module left out of the layers contract would be free to import anything: name it in a layer.
    import tomllib

    from tests.conftest import REPO_ROOT

    contracts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    named = {m.strip("() ") for layer in layers for m in layer.replace("|", ":").split(":")}
    graph = grimp.build_graph("monitor", cache_dir=None)
    tops = {".".join(m.split(".")[:2]) for m in graph.modules if m.count(".") >= 1}
    assert sorted(tops - named - {"monitor.__main__"}) == []
