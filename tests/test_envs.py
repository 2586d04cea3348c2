"""The per-rule conda environments (envs/*.yaml, for `--sdm conda` on a cluster) against the code and the pins.

- each env parses and every rule's `conda:` names an existing env;
- each env provides the third-party imports of the code its rules run: the rule's script, the lhama modules the
  script imports (with their function-level imports) and, below those, the lhama modules' module-level imports;
  a package counts as provided when the env lists it or when a listed package depends on it (the dependency
  metadata of this virtualenv);
- every version an env pins equals the pin in requirements.txt / constraints.txt (conda names mapped to pip names).
"""

import ast
import importlib.metadata as metadata
import re
import sys
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
# imports made lazily inside lhama functions that the env's rules never call (maintained by hand, checked to still
# be imported somewhere so stale entries show up)
UNUSED_LAZY = {
    # check_questions uses lhama.evaluate.question_coverage only: the scorers belong to the evaluate rule (eval env);
    # report reads lhama.models.read_model_info only: loading models belongs to the train/eval envs
    "data": {"py3langid", "rouge_score", "sacrebleu", "scipy", "numpy", "torch", "transformers", "huggingface_hub"},
}


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


def _env_packages(path: Path) -> dict[str, str | None]:
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


def _closure(packages) -> set[str]:
    seen, todo = set(), list(packages)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_requires(name))
    return seen


@cache
def _import_to_distribution() -> dict[str, str]:
    return {module: canonicalize_name(dists[0]) for module, dists in metadata.packages_distributions().items()}


def _imports(path: Path, lazy: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if not lazy and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names.add(child.module)
            visit(child)

    visit(tree)
    return names


def _lhama_file(module: str) -> Path | None:
    base = ROOT / "src" / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def third_party_imports(script: Path) -> set[str]:
    """Top-level third-party modules the script needs (see the module docstring for the depth rule)."""
    third, seen = set(), set()
    todo = [(name, 0) for name in _imports(script, lazy=True)]
    while todo:
        module, depth = todo.pop()
        if module.split(".")[0] == "lhama":
            if module in seen:
                continue
            seen.add(module)
            path = _lhama_file(module)
            if path:
                todo.extend((name, depth + 1) for name in _imports(path, lazy=depth == 0))
        elif module.split(".")[0] not in sys.stdlib_module_names:
            third.add(module.split(".")[0])
    return third


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


@pytest.mark.parametrize("path", ENVS, ids=[path.stem for path in ENVS])
def test_env_parses(path):
    spec = yaml.safe_load(path.read_text())
    assert spec["channels"][0] == "conda-forge" and "defaults" not in spec["channels"]
    assert any(str(entry).startswith("python=3.11") for entry in spec["dependencies"])
    assert _env_packages(path)


def test_expected_envs_exist():
    assert {path.stem for path in ENVS} >= {"data", "rag", "train", "eval"}


@pytest.mark.parametrize(("rule", "conda", "script", "smk"), RULE_ENVS, ids=[entry[0] for entry in RULE_ENVS])
def test_rule_env_exists(rule, conda, script, smk):
    assert conda, f"rule {rule} ({smk.name}) has no conda: env"
    assert (smk.parent / conda).resolve().is_file(), f"rule {rule}: {conda} does not exist"
    assert script is None or script.is_file(), f"rule {rule}: script {script} does not exist"


@pytest.mark.parametrize(("rule", "conda", "script", "smk"), [entry for entry in RULE_ENVS if entry[1] and entry[2]],
                         ids=[entry[0] for entry in RULE_ENVS if entry[1] and entry[2]])
def test_env_covers_the_rule_imports(rule, conda, script, smk):
    env = (smk.parent / conda).resolve()
    declared = _env_packages(env)
    provided = _closure(declared)
    mapping = _import_to_distribution()
    missing = []
    for module in sorted(third_party_imports(script) - UNUSED_LAZY.get(env.stem, set())):
        distribution = mapping.get(module, canonicalize_name(module))
        if distribution in NOT_PACKAGES:
            continue
        if distribution not in provided:
            missing.append(f"{module} ({distribution})")
    assert not missing, f"rule {rule} runs {script.name}, which needs {missing}; envs/{env.name} lacks them"


def test_unused_lazy_table_is_current():
    imported = set().union(*(_imports(path, lazy=True) for path in (ROOT / "src/lhama").rglob("*.py")))
    tops = {name.split(".")[0] for name in imported}
    for env, modules in UNUSED_LAZY.items():
        assert modules <= tops, f"UNUSED_LAZY[{env!r}] names modules lhama no longer imports: {modules - tops}"


@pytest.mark.parametrize("path", ENVS, ids=[path.stem for path in ENVS])
def test_env_pins_match_requirements(path):
    mismatched, unpinned = [], []
    for package, version in _env_packages(path).items():
        if version is None:
            if package in PINS:
                unpinned.append(f"{package} (requirements pin {PINS[package]})")
        elif PINS.get(package) != version:
            mismatched.append(f"{package}={version} (requirements/constraints: {PINS.get(package, 'not pinned')})")
    assert not mismatched, f"envs/{path.name}: {mismatched}"
    assert not unpinned, f"envs/{path.name} leaves unpinned what requirements pin: {unpinned}"
