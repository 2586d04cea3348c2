"""The per-rule conda environments (envs/*.yaml, for `--sdm conda` on a cluster), tested by running them.

For each env, a virtual environment of exactly what `conda env create -f envs/X.yaml` would install is built from
this machine's packages: the env's packages, everything they depend on, and lhama's own dependencies (the env
installs lhama with `pip install --editable ..`), linked into a fresh venv's site-packages, nothing else. In it:

- every module a rule of that env imports is imported for real: the rule's script's imports, and, across lhama,
  every import (module-level or inside a function) of the lhama modules reachable from the script; a short,
  checked list names the imports of functions an env's rules never call;
- the training launcher's command line (torchrun, accelerate) starts the training entry point with `--help`.

Also: each env parses, every rule names one, and every version an env pins equals the pin of requirements.txt /
constraints.txt.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import json
import re
import subprocess
import sys
import venv
from functools import cache
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
RULES = sorted((ROOT / "workflow/rules").glob("*.smk"))

# conda-forge name -> PyPI name where they differ
CONDA_TO_PIP = {"matplotlib-base": "matplotlib", "pytorch": "torch", "faiss-gpu": "faiss-cpu"}
# not packages of the env: the interpreter and installer, and snakemake, whose script preamble puts its own path
# on sys.path
NOT_PACKAGES = {"python", "pip", "snakemake"}
# imports made inside lhama functions that an env's rules never call, by env: (lhama module, imported module).
# Checked to still be imported there, so a stale entry shows up.
UNCALLED = {
    # report reads lhama_model.json (lhama.models.read_model_info): no rule of the data env loads a model
    "data": {("lhama.models", "torch"), ("lhama.models", "transformers"), ("lhama.models", "huggingface_hub")},
    "eval": set(),
    # a hub embedder's cache is found through lhama.models.cached_hub_model: no retrieval rule loads a model
    "rag": {("lhama.models", "torch"), ("lhama.models", "transformers")},
    "train": set(),
}
# imports a function makes only when the package is there (it handles the ImportError): every env may lack them
OPTIONAL = {("lhama.provenance", "torch")}


def _pip_pins(*files: str) -> dict[str, str]:
    pins = {}
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                package, version = line.split("==", 1)
                pins[canonicalize_name(package)] = version.strip()
    return pins


PINS = {**_pip_pins("constraints.txt"), **_pip_pins("requirements.txt")}


def env_packages(path: Path) -> dict[str, str | None]:
    """{pip name: pinned version or None} of an env file (conda and pip sections)."""
    spec = yaml.safe_load(path.read_text())
    packages: dict[str, str | None] = {}
    for entry in spec["dependencies"]:
        if isinstance(entry, dict):
            for line in entry.get("pip", []):
                if line.startswith("-"):
                    continue
                requirement = Requirement(line)
                pinned = [s.version for s in requirement.specifier if s.operator == "=="]
                packages[canonicalize_name(requirement.name)] = pinned[0] if pinned else None
            continue
        name, _, version = re.match(r"^([A-Za-z0-9_.\-]+)\s*(=+)?\s*([^\s=]*)", entry).groups()
        if name in NOT_PACKAGES:
            continue
        packages[canonicalize_name(CONDA_TO_PIP.get(name, name))] = version or None
    return packages


@cache
def _requires(distribution: str) -> frozenset[str]:
    try:
        requirements = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return frozenset()
    environment = {**default_environment(), "extra": ""}
    names = set()
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            names.add(canonicalize_name(requirement.name))
    return frozenset(names)


def closure(packages) -> set[str]:
    seen, todo = set(), list(packages)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_requires(name))
    return seen


def _installed() -> dict[str, metadata.Distribution]:
    return {canonicalize_name(dist.metadata["Name"]): dist for dist in metadata.distributions()}


def build_env_venv(env: Path, folder: Path) -> Path:
    """A venv whose site-packages holds only `env`'s packages (and their dependencies, and lhama's), linked from
    this one; returns its python."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    python = folder / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    installed = _installed()
    wanted = closure(set(env_packages(env)) | _requires("lhama")) - {"lhama"}
    for name in sorted(wanted & set(installed)):
        dist = installed[name]
        base = Path(dist.locate_file(""))
        tops = {Path(str(file)).parts[0] for file in dist.files or [] if not str(file).startswith("..")}
        for top in tops:
            source, target = base / top, site / top
            if source.exists() and not target.exists() and top != "__pycache__":
                target.symlink_to(source)
    (site / "lhama-src.pth").write_text(str(ROOT / "src") + "\n")
    return python


def _imports(path: Path) -> dict[str, bool]:
    """Modules `path` imports -> whether some import of it is inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, bool] = {}

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            names = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module] + [f"{child.module}.{alias.name}" for alias in child.names]
            for name in names:
                found[name] = found.get(name, False) or inner
            visit(child, inner)

    visit(tree, False)
    return found


def _lhama_file(module: str) -> Path | None:
    base = ROOT / "src" / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def rule_imports(script: Path, env: str) -> set[str]:
    """Every module the rule's job may import: the script's imports and, through lhama, all imports of the lhama
    modules reached (less the UNCALLED ones of this env)."""
    wanted, seen = set(), set()
    todo = list(_imports(script))
    while todo:
        module = todo.pop()
        if module.split(".")[0] != "lhama":
            wanted.add(module)
            continue
        path = _lhama_file(module)
        if path is None:  # `from lhama.x import name` also lists `lhama.x.name`: a name, not a module
            continue
        if module in seen:
            continue
        seen.add(module)
        wanted.add(module)
        skipped = [name for owner, name in UNCALLED[env] | OPTIONAL if owner == module]
        todo.extend(name for name in _imports(path)
                    if not any(name == skip or name.startswith(f"{skip}.") for skip in skipped))
    return {name for name in wanted if name.split(".")[0] not in sys.stdlib_module_names}


def rules_with_envs() -> list[tuple[str, str | None, Path | None, Path]]:
    """(rule, conda env path as written, script path, .smk file) for every rule with a script or a conda env."""
    found = []
    for smk in RULES:
        text = smk.read_text()
        for match in re.finditer(r"^\s*rule (\w+):\n(.*?)(?=^\s*rule \w+:|\Z)", text, re.S | re.M):
            body = match.group(2)
            conda = re.search(r'^\s+conda:\s*\n\s+"([^"]+)"', body, re.M)
            script = re.search(r'^\s+script:\s*\n\s+"([^"]+)"', body, re.M)
            if conda or script:
                found.append((match.group(1), conda.group(1) if conda else None,
                              (smk.parent / script.group(1)).resolve() if script else None, smk))
    return found


RULE_ENVS = rules_with_envs()
IMPORT_CHECK = """
import importlib, importlib.util, json, sys
results = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
        results[name] = None
    except ModuleNotFoundError as error:
        parent = name.rpartition(".")[0]
        # `from pkg import name`: a name, not a module, when pkg itself imports
        if error.name == name and parent and importlib.util.find_spec(parent) is not None:
            results[name] = None
        else:
            results[name] = f"{type(error).__name__}: {error}"
    except Exception as error:
        results[name] = f"{type(error).__name__}: {error}"
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def env_pythons(tmp_path_factory) -> dict[str, Path]:
    return {env.stem: build_env_venv(env, tmp_path_factory.mktemp(f"env-{env.stem}")) for env in ENVS}


@pytest.fixture(scope="module")
def import_results(env_pythons) -> dict[str, dict[str, str | None]]:
    """Per env: every module its rules import, imported in its own venv -> None or the error."""
    results = {}
    for env, python in env_pythons.items():
        modules = sorted(set().union(*(rule_imports(script, env) for _, conda, script, _ in RULE_ENVS
                                       if script and conda and Path(conda).stem == env)))
        run = subprocess.run([str(python), "-c", IMPORT_CHECK, *modules], capture_output=True, text=True,
                             timeout=600, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
        assert run.returncode == 0, run.stderr[-3000:]
        results[env] = json.loads(run.stdout.strip().splitlines()[-1])
    return results


@pytest.mark.parametrize("path", ENVS, ids=[path.stem for path in ENVS])
def test_env_parses(path):
    spec = yaml.safe_load(path.read_text())
    assert spec["channels"][0] == "conda-forge" and "defaults" not in spec["channels"]
    assert any(str(entry).startswith("python=3.11") for entry in spec["dependencies"])
    assert env_packages(path)


@pytest.mark.parametrize(("rule", "conda", "script", "smk"), RULE_ENVS, ids=[entry[0] for entry in RULE_ENVS])
def test_rule_env_exists(rule, conda, script, smk):
    assert conda, f"rule {rule} ({smk.name}) has no conda: env"
    assert (smk.parent / conda).resolve().is_file(), f"rule {rule}: {conda} does not exist"
    assert script is None or script.is_file(), f"rule {rule}: script {script} does not exist"


def test_the_env_venv_holds_only_the_env(env_pythons):
    """The check has teeth: the train env's venv cannot import what only the retrieval env has."""
    run = subprocess.run([str(env_pythons["train"]), "-c", "import langchain_core"], capture_output=True, text=True)
    assert run.returncode != 0 and "No module named 'langchain_core'" in run.stderr
    run = subprocess.run([str(env_pythons["rag"]), "-c", "import trl"], capture_output=True, text=True)
    assert run.returncode != 0


@pytest.mark.parametrize(("rule", "conda", "script", "smk"), [entry for entry in RULE_ENVS if entry[1] and entry[2]],
                         ids=[entry[0] for entry in RULE_ENVS if entry[1] and entry[2]])
def test_rule_imports_run_in_its_env(rule, conda, script, smk, import_results):
    env = Path(conda).stem
    failed = {module: error for module, error in import_results[env].items()
              if error and module in rule_imports(script, env)}
    assert not failed, f"rule {rule} ({script.name}) in envs/{env}.yaml: {failed}"


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_training_launcher_starts_the_entry_point_in_the_train_env(env_pythons, launcher, tmp_path):
    """The 70B job's command line (lhama.train.launch) with the train env's interpreter: each process must start."""
    from lhama.config.loading import parse
    from lhama.config.sections import TrainConfig
    from lhama.train.launch import launch_command

    config = parse(TrainConfig, {"launcher": {"type": launcher, "processes_per_node": 2}}, "train")
    line = launch_command(config, ["--help"], {})
    python = str(env_pythons["train"])
    # the console scripts `torchrun` and `accelerate launch` are these modules
    module, skip = {"torchrun": ("torch.distributed.run", 1), "accelerate": ("accelerate.commands.launch", 2)}[launcher]
    command = [python, "-m", module, *line[skip:]]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env={"HF_HUB_OFFLINE": "1", "PATH": f"{Path(python).parent}:/usr/bin:/bin",
                              "HOME": str(tmp_path), "ACCELERATE_USE_CPU": "1"})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert run.stdout.count("usage: lhama train") == 2  # both processes parsed their arguments


def test_uncalled_table_is_current():
    for env, pairs in {**UNCALLED, "any": OPTIONAL}.items():
        for module, name in pairs:
            assert name in _imports(_lhama_file(module)), f"UNCALLED[{env!r}]: {module} no longer imports {name}"


@pytest.mark.parametrize("path", ENVS, ids=[path.stem for path in ENVS])
def test_env_pins_match_requirements(path):
    mismatched, unpinned = [], []
    for package, version in env_packages(path).items():
        if version is None:
            if package in PINS:
                unpinned.append(f"{package} (requirements pin {PINS[package]})")
        elif PINS.get(package) != version:
            mismatched.append(f"{package}={version} (requirements/constraints: {PINS.get(package, 'not pinned')})")
    assert not mismatched, f"envs/{path.name}: {mismatched}"
    assert not unpinned, f"envs/{path.name} leaves unpinned what requirements pin: {unpinned}"
