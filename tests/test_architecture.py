"""The layers of docs/architecture.md, checked on the code: no package imports one above
it, no module imports itself round a cycle, and every function-local import says why it
is there. The contracts live in pyproject.toml ([tool.importlinter]), so that
``lint-imports`` on the command line checks the same thing."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the server's import packages, bottom to top, as docs/architecture.md draws them
PACKAGES = ["integral", "fetching", "accounts", "uws", "tap_catalog", "workspace", "tools_registry", "vo_service"]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "client")])}
    return subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                           "sys.exit(lint_imports_command())", "--config", str(root / "pyproject.toml"),
                           "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_every_package_keeps_to_its_layer():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: " in done.stdout and " broken" in done.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    """The check can fail: a copy of the tree where the job model imports the application
    factory is refused, naming that import."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "data", "tests"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    job = tmp_path / "uws" / "job.py"
    job.write_text(job.read_text() + "\nimport vo_service.app  # an upward import, on purpose\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "uws.job -> vo_service.app" in done.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
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

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_cycle():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    assert _cycles(graph) == []


def _function_local_imports(path: Path):
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    # the comment is on the line, or above the block of imports it begins
                    first = node.lineno - 1
                    while first > 0 and lines[first - 1].strip().startswith(("import ", "from ")):
                        first -= 1
                    said = "#" in lines[node.lineno - 1] or (first > 0 and lines[first - 1].strip().startswith("#"))
                    yield node.lineno, said


def test_every_function_local_import_says_why_it_is_lazy():
    silent = [f"{path.relative_to(ROOT)}:{lineno}"
              for name in PACKAGES for path in sorted((ROOT / name).rglob("*.py"))
              for lineno, commented in _function_local_imports(path) if not commented]
    assert silent == [], "\n".join(silent)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_says_what_it_holds_and_what_it_may_import(name):
    doc = ast.get_docstring(ast.parse((ROOT / name / "__init__.py").read_text()))
    assert doc and len(doc) > 80 and "import" in doc.lower(), f"{name}/__init__.py: {doc!r}"
