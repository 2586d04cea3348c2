"""Helpers shared by the Snakemake rules (`workflow/rules/common.smk`) and their thin scripts."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import yaml

from lhama.errors import ConfigError  # noqa: F401  (re-exported for the rules)

MULTISTREAM_SUFFIX = "-multistream.xml.bz2"
QUESTION_SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def log_to_file(path: str | Path) -> None:
    """Route the package's logs (and warnings) to a rule's `log:` file."""
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # it logs every optional CPU variant it misses
    logging.captureWarnings(True)


def check_config(config: dict, schema_path: str | Path, source: str = "config") -> None:
    """One clear line for the first schema violation, naming the key (before Snakemake's own validation)."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        name = f"{key}.{unknown[0]}" if key != "(top level)" else unknown[0]
        raise ConfigError(name, f"unknown key (allowed here: {allowed})", source=source)
    raise ConfigError(key, error.message, source=source)


def is_url(value: str) -> bool:
    return urlparse(str(value)).scheme in ("http", "https", "ftp")


def local_dump_path(dump: str, download_dir: str) -> str:
    """Where the dump is read from: the path itself, or the download folder for a URL."""
    return str(Path(download_dir) / Path(urlparse(dump).path).name) if is_url(dump) else str(dump)


def index_for(dump_path: str, setting: str | None, *, will_download: bool) -> str | None:
    """The multistream index to use: an explicit path, none, or (`auto`) the sibling `-index.txt.bz2` if present."""
    if setting in (None, "", "none"):
        return None
    if setting != "auto":
        return setting
    if not dump_path.endswith(MULTISTREAM_SUFFIX):
        return None
    candidate = dump_path[: -len(".xml.bz2")] + "-index.txt.bz2"
    return candidate if will_download or Path(candidate).exists() else None


def question_sets(paths: list[str]) -> dict[str, str]:
    """Question set name (file stem) -> path; names must be unique and wildcard-safe."""
    sets: dict[str, str] = {}
    for path in paths:
        name = Path(path).name.removesuffix(".jsonl").removesuffix(".json")
        if not QUESTION_SET_NAME.match(name):
            raise ConfigError("questions", f"file name {path!r} gives the set name {name!r}; use letters, digits, _ . -")
        if name in sets:
            raise ConfigError("questions", f"two files share the set name {name!r}: {sets[name]} and {path}")
        sets[name] = path
    if not sets:
        raise ConfigError("questions", "list at least one JSONL question file")
    return sets


class step:
    """Context for a rule's script: logs to the rule's log file; a user-facing error becomes one line and exit 1.

    Usage in workflow/scripts: `with step(snakemake): ...`.
    """

    def __init__(self, smk) -> None:
        self.log_path = smk.log[0] if smk.log else None
        self.rule = smk.rule

    def __enter__(self) -> "step":
        if self.log_path:
            log_to_file(self.log_path)
        logging.getLogger("lhama").info("rule %s started", self.rule)
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        import sys

        from lhama.errors import LhamaError

        if isinstance(error, LhamaError):
            logging.getLogger("lhama").error("%s", error)
            print(f"lhama ({self.rule}): error: {error}", file=sys.stderr)
            sys.exit(1)
        if error is None:
            logging.getLogger("lhama").info("rule %s done", self.rule)
        return False


def config_source(workflow) -> str:
    """The config files in force (for error messages), e.g. `config/config.yaml`."""
    files = [str(path) for path in getattr(workflow, "configfiles", []) or []]
    return ", ".join(files) or "config"
