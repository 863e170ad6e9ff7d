"""The layer rule of docs/ARCHITECTURE.md: a module imports only from its own layer or below, and
no modules import each other in a cycle. Every import under src/neuralcodes counts (module level,
inside functions, under TYPE_CHECKING), read with ``ast``; this file holds the layer map."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import neuralcodes

# The top-level module or package under neuralcodes -> its layer (bottom 0 to top 7).
LAYERS: dict[str, int] = {
    # 0 base: no neuralcodes imports above this line
    "neuralcodes": 0, "errors": 0, "artifacts": 0, "config": 0, "progress": 0, "logs": 0,
    "device": 0, "stats": 0, "tables": 0, "results": 0, "allocator": 0, "paths": 0,
    "environment": 0, "names": 0, "extras": 0,
    # 1 images and data
    "images": 1, "data": 1,
    # 2 models
    "model": 2, "models": 2, "recipes": 2, "presets": 2,
    # 3 codes and metrics, the run-folder contract, figures and report
    "codes": 3, "codesets": 3, "encoder": 3, "postprocess": 3, "search": 3, "metrics": 3,
    "scoring": 3, "evaluate": 3, "train": 3, "checkpoint": 3, "early_stopping": 3, "runs": 3,
    "dist_context": 3, "figures": 3, "report": 3, "runinfo": 3,
    # 4 the persistent index
    "index": 4,
    # 5 the experiment's pipeline, research tools, benchmarks, distributed work, export
    "pipeline": 5, "research": 5, "benchmarks": 5, "distributed": 5, "export": 5,
    # 6 the server
    "serve": 6,
    # 7 the command line
    "cli": 7, "__main__": 7,
}
LAYER_NAMES = ("base", "images and data", "models", "codes and metrics", "index",
               "pipeline and research", "serve", "CLI")

SRC = Path(neuralcodes.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def imported(path: Path) -> set[str]:
    """The neuralcodes modules that ``path`` imports (a name imported from a package counts as
    its submodule when there is one)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                      for a in node.names}
    return {m for m in found if m in MODULES and m != name}


def layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else module
    if top not in LAYERS:
        raise AssertionError(f"{module} is in no layer: add {top!r} to LAYERS in {__file__} "
                             "and to the table of docs/ARCHITECTURE.md")
    return LAYERS[top]


GRAPH = {name: imported(path) for name, path in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        layer(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    up = [f"{dep} (layer {layer(dep)}, {LAYER_NAMES[layer(dep)]})" for dep in sorted(GRAPH[name])
          if layer(dep) > layer(name)]
    assert not up, (f"{name} (layer {layer(name)}, {LAYER_NAMES[layer(name)]}) imports from "
                    f"a higher layer: {', '.join(up)}")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = [stack.pop()]
            while component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_the_checks_catch_an_upward_import_and_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer("neuralcodes.runs") == 3 and layer("neuralcodes.index.api") == 4
    assert "neuralcodes.runs" in GRAPH["neuralcodes.index.pca_step"]  # index -> runs: down
