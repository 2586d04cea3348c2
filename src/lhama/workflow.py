"""Helpers shared by the Snakemake rules (`workflow/rules/common.smk`) and their thin scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import yaml

from lhama.errors import ConfigError  # noqa: F401  (re-exported for the rules)

if TYPE_CHECKING:
    from lhama.models import ModelSpec

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


def read_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def check_config(config: dict, schema: Mapping, source: str = "config") -> None:
    """One clear line for the first schema violation, naming the key (before Snakemake's own validation)."""
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


def command_line_config(workflow) -> dict:
    """What `snakemake --config key=value ...` set, as Snakemake parsed it."""
    return dict(getattr(getattr(workflow, "config_settings", None), "overwrite_config", None) or {})


def _takes_string(schema: Mapping) -> bool:
    kinds = schema.get("type")
    if kinds is None:
        return "enum" in schema and any(isinstance(choice, str) for choice in schema["enum"])
    return "string" in ([kinds] if isinstance(kinds, str) else kinds)


def _subschema(schema: Mapping, key: str) -> Mapping:
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, Mapping) else {}


def type_command_line_values(config: dict, overrides: Mapping, schema: Mapping, path: str = "") -> list[str]:
    """Snakemake reads the inside of `--config generation="{max_new_tokens: 8}"` with YAML's BaseLoader, so 8
    arrives as '8'. Re-read such strings as YAML wherever the schema does not take a string there (and in
    free-form sections such as `train.args`), in place. Returns the keys that were retyped."""
    retyped: list[str] = []
    for key, override in overrides.items():
        name = f"{path}.{key}" if path else str(key)
        sub = _subschema(schema, key)
        value = config.get(key)
        if isinstance(override, Mapping) and isinstance(value, dict):
            retyped += type_command_line_values(value, override, sub, name)
        elif isinstance(value, list) and isinstance(override, list) and not _takes_string(sub.get("items", {})):
            for index, item in enumerate(value):
                if isinstance(item, str) and not isinstance(parsed := _yaml_scalar(item), str):
                    value[index] = parsed
                    retyped.append(f"{name}[{index}]")
        elif isinstance(value, str) and value == override and not _takes_string(sub):
            if not isinstance(parsed := _yaml_scalar(value), str):
                config[key] = parsed
                retyped.append(name)
    return retyped


def _yaml_scalar(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


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


def limit_threads(threads: int) -> None:
    """Keep torch (and OpenMP/BLAS in child processes) to the job's `threads:`. Oversubscribed cores made
    training and generation up to 10x slower when two jobs shared them."""
    import os
    import sys

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


class step:
    """Context for a rule's script: logs to the rule's log file; a user-facing error becomes one line and exit 1.

    Usage in workflow/scripts: `with step(snakemake): ...`.
    """

    def __init__(self, smk) -> None:
        self.log_path = smk.log[0] if smk.log else None
        self.rule = smk.rule
        self.threads = getattr(smk, "threads", None)

    def __enter__(self) -> "step":
        if self.log_path:
            log_to_file(self.log_path)
        if self.threads:
            limit_threads(self.threads)
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
    """The config files in force (for error messages), e.g. `config/config.yaml, --config`."""
    sources = [str(path) for path in getattr(workflow, "configfiles", []) or []]
    if command_line_config(workflow):
        sources.append("--config")
    return ", ".join(sources) or "config"


def prepare_workflow_config(config: dict, workflow, schema_path: str | Path) -> None:
    """What common.smk does first: type the `--config` values, then stop on the first schema violation with
    one line naming the key."""
    schema = read_schema(schema_path)
    retyped = type_command_line_values(config, command_line_config(workflow), schema)
    if retyped:
        logging.getLogger("lhama").debug("--config values read as YAML: %s", ", ".join(retyped))
    check_config(config, schema, source=config_source(workflow))


# ---------------------------------------------------------------------------------------------------------------
# the model registry and the jobs it implies

DEFAULT_CONFIG = "config/config.yaml"
SCHEMA = "config/config.schema.yaml"


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """`override` on top of `base`, recursing into mappings (as Snakemake merges --configfile files)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(files: list[str] | None = None, root: str | Path = ".") -> dict:
    """config/config.yaml merged with `files`, checked against the schema and filled with its defaults: the
    config a `snakemake --configfile FILE...` run would see."""
    from snakemake.utils import validate

    root = Path(root)
    config: dict = {}
    for name in [str(root / DEFAULT_CONFIG), *(files or [])]:
        try:
            loaded = yaml.safe_load(Path(name).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError("--config", f"{name}: no such file") from None
        except yaml.YAMLError as error:
            raise ConfigError("--config", f"{name}: not valid YAML ({error})") from None
        config = deep_merge(config, loaded)
    check_config(config, read_schema(root / SCHEMA), source=", ".join([DEFAULT_CONFIG, *(files or [])]))
    validate(config, str(root / SCHEMA))
    return config


@dataclass(frozen=True)
class ModelEntry:
    """One model of the registry: its spec, its training config (`train` merged with the model's own) and
    its resources by rule (`resources` merged with the model's own)."""

    spec: "ModelSpec"
    train: dict
    resources: dict


def model_entries(config: Mapping) -> dict[str, ModelEntry]:
    from lhama.models import model_spec_from_dict

    entries = {}
    for name, mapping in config["models"].items():
        if mapping is None:
            continue
        spec_keys = {"source", "params", "trust_remote_code", "revision", "chat_template"}
        spec = model_spec_from_dict(name, {k: v for k, v in mapping.items() if k in spec_keys})
        train = deep_merge(config.get("train", {}), mapping.get("train", {}) or {})
        resources = deep_merge(config.get("resources", {}), mapping.get("resources", {}) or {})
        entries[name] = ModelEntry(spec, train, resources)
    if not entries:
        raise ConfigError("models", "no model left: every entry is null")
    return entries


def inference_gpus(params: float, cluster: Mapping) -> int:
    from lhama.plan import inference_gpus as gpus

    return gpus(params, dict(cluster))


def rule_resources(resources: Mapping, rule: str) -> dict:
    return {**resources.get("default", {}), **resources.get(rule, {})}


def workflow_plans(config: Mapping, base_dir: str | Path = ".") -> list:
    """One `JobPlan` per configured model's training job; a job that cannot fit raises a ConfigError naming
    the model (so a dry run stops before anything is queued)."""
    from lhama.plan import training_plan

    return [training_plan(name, entry.spec.params, entry.train, config.get("cluster", {}),
                          rule_resources(entry.resources, "train"), base_dir)
            for name, entry in model_entries(config).items()]


def generation_template(train: Mapping) -> str:
    """The answer stage's prompt for a model without a chat template: the training prompt (`train.prompt_template`,
    {instruction} and {input}) in `lhama.generate.format_prompts`'s terms ({system} and {prompt})."""
    from lhama.train import DEFAULT_PROMPT_TEMPLATE

    template = train.get("prompt_template") or DEFAULT_PROMPT_TEMPLATE
    return template.replace("{instruction}", "{system}").replace("{input}", "{prompt}")
