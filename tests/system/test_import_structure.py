"""No import cycles: no module reaches itself through its imports, and each package (and each
top-level module) imports alone in a fresh interpreter, as a cycle would fail only when entered
from one side. Imports inside functions count too: a late import hides a cycle, it does not
remove it."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import keyturn

ROOT = Path(keyturn.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for p in sorted(ROOT.rglob("*.py"))
        if "migrations" not in p.parts and not p.name.startswith(".")
    }


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """keyturn modules `path` imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in modules)
    return found


def test_no_module_imports_itself_through_others() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) for name, path in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# Runs in one fresh interpreter: imports the third-party libraries once, then forks a child per
# package, which starts with no keyturn module loaded and imports that package's modules alone.
_FORK_EACH = """
import importlib, json, os, sys
packages = json.loads(sys.argv[1])
for lib in json.loads(sys.argv[2]):
    importlib.import_module(lib)
assert not [m for m in sys.modules if m == "keyturn" or m.startswith("keyturn.")]
failed = {}
for package, names in packages.items():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            for name in names:
                importlib.import_module(name)
        except BaseException as exc:
            os.write(write, f"{name}: {type(exc).__name__}: {exc}".encode())
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        error = pipe.read()
    os.waitpid(pid, 0)
    if error:
        failed[package] = error
print(json.dumps(failed))
"""


def _third_party(modules: dict[str, Path]) -> list[str]:
    libs: set[str] = set()
    for path in modules.values():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                libs.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                libs.add(node.module)
    return sorted(lib for lib in libs if lib.split(".")[0] not in ("keyturn", "__future__"))


def test_each_package_imports_alone_in_a_fresh_interpreter() -> None:
    modules = _modules()
    packages: dict[str, list[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        # keyturn's own top-level modules (app, deps, db, ...) are each a unit of their own
        packages.setdefault(name if package == "keyturn" else package, []).append(name)
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            _FORK_EACH,
            json.dumps(packages),
            json.dumps(_third_party(modules)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(packages) > 30
    assert json.loads(run.stdout) == {}
