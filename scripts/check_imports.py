#!/usr/bin/env python3
"""Import cycles in the project's own code: between top-level packages and between modules.

Every import counts, including those inside functions (a cycle hidden in a function is still a
cycle a reader has to untangle). tests/, bench/ and migrations/ are left out: they sit on top of
the code and nothing imports them. Standard library only (ast), so it runs before anything is
installed:

    python3 scripts/check_imports.py          # prints each cycle; exit status 1 when there is one
    python3 scripts/check_imports.py --graph  # also prints each package's imports of other packages

tests/test_imports.py runs it as part of the suite.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = {"tests", "bench", "migrations", "scripts", "instance", "static", "templates", "docs"}  # folders


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for the top-level modules and every package's .py files."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if any(part.startswith(".") for part in parts):
            continue
        if len(parts) > 1 and (parts[0] in LEFT_OUT or not (root / parts[0] / "__init__.py").exists()):
            continue  # left out, or a folder of scripts rather than a package
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` stands for: itself, or the nearest enclosing module that exists."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere in its file (top level or inside functions)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports pkg.mod when it is a module, else a name from pkg.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.add(target)
    return found


def module_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        top = module.split(".")[0]
        packages.setdefault(top, set()).update(t.split(".")[0] for t in targets if t.split(".")[0] != top)
    return packages


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def one_loop(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """One concrete loop through a cycle's members, for the message (a -> b -> c -> a)."""
    inside = set(members)
    start = members[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(t for t in graph[path[-1]] if t in inside)
        back = [t for t in nxt if t == start]
        if back and len(path) > 1:
            return [*path, start]
        fresh = [t for t in nxt if t not in seen]
        if not fresh:
            loop_to = next(t for t in nxt if t in seen)
            return [*path[path.index(loop_to):], loop_to]
        path.append(fresh[0])
        seen.add(fresh[0])


def report(root: Path = ROOT) -> list[str]:
    """One line for each cycle; empty when there is none."""
    graph = module_graph(root)
    packages = package_graph(graph)
    lines = [f"package cycle: {' -> '.join(one_loop(packages, c))}" for c in cycles(packages)]
    lines += [f"module cycle: {' -> '.join(one_loop(graph, c))}" for c in cycles(graph)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", action="store_true", help="print each package's imports of other packages")
    args = parser.parse_args(argv)
    if args.graph:
        for package, targets in sorted(package_graph(module_graph()).items()):
            print(f"{package}: {', '.join(sorted(targets)) or '-'}")
    lines = report()
    for line in lines:
        print(line)
    if not lines:
        print("no import cycle between packages or modules")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
