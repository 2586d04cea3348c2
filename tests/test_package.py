"""The package's shape: no import cycles (module-level or inside functions), modules of a readable size,
argparse only in lhama.cli, and a command line that loads only the command it runs."""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
MODULES = {".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): path
           for path in sorted((SRC / "lhama").rglob("*.py"))}
MAX_LINES = 520


def lhama_imports(path: Path) -> set[str]:
    """The lhama modules `path` imports anywhere in it (`from lhama.x import y` counts lhama.x.y if that is a
    module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "lhama"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                node.module.split(".")[0] == "lhama":
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names
                      if f"{node.module}.{alias.name}" in MODULES}
    return {name for name in found if name in MODULES}


def test_no_import_cycles():
    graph = {module: lhama_imports(path) - {module} for module, path in MODULES.items()}
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_a_cycle_would_be_found(tmp_path):
    graph = {"lhama.a": {"lhama.b"}, "lhama.b": {"lhama.a"}}
    with pytest.raises(graphlib.CycleError):
        list(graphlib.TopologicalSorter(graph).static_order())


def test_modules_stay_readable():
    sizes = {module: len(path.read_text(encoding="utf-8").splitlines()) for module, path in MODULES.items()}
    assert {module: lines for module, lines in sizes.items() if lines > MAX_LINES} == {}


def test_argparse_lives_in_the_command_line_package():
    users = {module for module, path in MODULES.items()
             if "argparse" in {alias.name for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                               if isinstance(node, ast.Import) for alias in node.names}}
    assert users and all(module.startswith("lhama.cli") for module in users), users


def loaded_after(code: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json\n"
                             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
                             "('lhama', 'torch', 'transformers', 'langchain_core', 'trl', 'faiss'))))"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_command_line_loads_only_the_command_it_runs():
    listing = loaded_after("from lhama.cli import build_parser\nbuild_parser()")
    assert listing <= {"lhama", "lhama.cli", "lhama.errors"}, listing
    retrieve = loaded_after("from lhama.cli import build_parser\nbuild_parser('retrieve')")
    assert "lhama.cli.rag" in retrieve and "lhama.cli.train" not in retrieve and "torch" not in retrieve


def test_the_training_entry_point_imports_nothing_of_retrieval():
    loaded = loaded_after("import lhama.cli.train, lhama.train.run, lhama.train.launch")
    assert "lhama.train.trainer" in loaded and "langchain_core" not in loaded and "faiss" not in loaded
    assert not any(module.startswith(("lhama.rag", "lhama.evaluate", "lhama.report")) for module in loaded)
