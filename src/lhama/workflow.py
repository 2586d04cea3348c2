"""What the Snakefile (`workflow/rules/common.smk`) computes when the DAG is built: the checked config, the dump and
question-set paths, the model registry, the training plans and the resources of the GPU jobs. The rules' scripts
use `lhama.job` instead, which imports none of this."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import urlparse

from lhama.config.loading import ModelEntry, check_references, model_entries, parse, rule_resources, to_dict
from lhama.config.sections import ADAPTERS, VARIANT_ADAPTER, WorkflowConfig
from lhama.errors import ConfigError, InputFileError

MULTISTREAM_SUFFIX = "-multistream.xml.bz2"
QUESTION_SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

__all__ = ["ConfigError", "ModelEntry", "load_workflow_config", "model_entries", "rule_resources", "to_dict"]


def command_line_config(workflow) -> dict:
    """What `snakemake --config key=value ...` set, as Snakemake parsed it."""
    return dict(getattr(getattr(workflow, "config_settings", None), "overwrite_config", None) or {})


def config_source(workflow) -> str:
    """The config files in force (for error messages), e.g. `config/config.yaml, --config`."""
    sources = [str(path) for path in getattr(workflow, "configfiles", []) or []]
    if command_line_config(workflow):
        sources.append("--config")
    return ", ".join(sources) or "config"


def load_workflow_config(config: dict, workflow=None, *, check_train_args: bool = True) -> WorkflowConfig:
    """What common.smk does first: the merged config checked against the section classes (one line naming the
    first bad key and where it came from), every model's `train.args` checked by HfArgumentParser (cached in
    the user's cache folder, lhama.config.sft.user_cache_file), then `config` itself replaced by the complete, typed values, so Snakemake's own
    validation and `snakemake --report` see what the jobs get."""
    source = config_source(workflow) if workflow is not None else "config"
    typed = check_references(parse(WorkflowConfig, config, source=source), source)
    if check_train_args:
        from lhama.config.sft import check_sft_args, user_cache_file

        cache = user_cache_file()
        try:
            checked = check_sft_args(typed.train.args, "train.args", cache=cache)
            typed = dataclasses.replace(typed, train=dataclasses.replace(typed.train, args=checked))
            entries = model_entries(typed)
            for name in _models_with_own_args(typed):
                own = typed.models[name].train["args"]
                checked = check_sft_args(entries[name].train.args, f"models.{name}.train.args", cache=cache)
                own.update({key: checked[key] for key in own})
        except ConfigError as error:
            raise ConfigError(error.key, error.problem, source=source) from None
    config.clear()
    config.update(to_dict(typed))
    return typed


def _models_with_own_args(config: WorkflowConfig) -> list[str]:
    return [name for name, model in config.models.items() if "args" in model.train]


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


def adapters_in_use(config: WorkflowConfig) -> list[str]:
    """The adapters the configured variants answer with (tuned, raft), in that order."""
    return [adapter for adapter in ADAPTERS if any(VARIANT_ADAPTER[variant] == adapter for variant in config.variants)]


def trained_row_draws(config: WorkflowConfig, adapter: str = "tuned") -> list[list]:
    """The distinct (rows taken, seed) draws of training rows of an adapter's trainings, one per model
    (`TrainConfig.trained_rows`, `row_seed`): what the seen-facts set and the RAFT examples are built from."""
    draws = {(train.trained_rows(), train.row_seed())
             for train in (entry.adapter_train(adapter) for entry in model_entries(config).values())}
    return [list(draw) for draw in sorted(draws, key=lambda draw: (draw[0] is None, draw[0] or 0, draw[1]))]


def raft_rows(config: WorkflowConfig) -> dict:
    """How many rows the RAFT examples are built for: the most any model's raft training takes (None: all), and the
    most it evaluates on, drawn with `raft.seed` (retrieval for every row of the full ptwiki's training
    split would be some 11 million queries for 2,000 rows trained)."""
    trainings = [entry.adapter_train("raft") for entry in model_entries(config).values()]
    takes = [train.trained_rows() for train in trainings]
    evals = [train.eval_examples for train in trainings]
    return {"train_rows": None if None in takes else max(takes), "eval_rows": None if None in evals else max(evals)}


def workflow_plans(config: WorkflowConfig, base_dir: str | Path = ".") -> list:
    """One `JobPlan` per training job (model x adapter in use); a job that cannot fit raises a ConfigError naming
    the model (so a dry run stops before anything is queued)."""
    from lhama.plan import training_plan

    return [training_plan(name, entry.spec.params, entry.adapter_train(adapter), config.cluster,
                          entry.rule_resources("train"), base_dir, adapter=adapter,
                          shape=model_config_shape(name, entry, base_dir))
            for name, entry in model_entries(config).items() for adapter in adapters_in_use(config)]


def model_config_shape(name: str, entry: ModelEntry, base_dir: str | Path = ".") -> dict[str, int] | None:
    """A model's shape from the first `config.json` at hand: the prepared folder (results/models/NAME/base), a local
    source folder, or a hub model's snapshot already in the Hugging Face cache (the download_model localrule
    fetches it on the login node); None where there is none yet (the planner then uses the Llama-2 family's)."""
    from lhama.plan import config_shape

    folders = [Path(base_dir) / "results/models" / name / "base"]
    if entry.spec.kind == "local":
        folders.append(Path(entry.spec.source))
    elif entry.spec.kind == "hub":
        from lhama.models import cached_hub_model

        try:
            folders.append(cached_hub_model(entry.spec.source, revision=entry.spec.revision))
        except InputFileError:
            pass
    return next((shape for shape in map(config_shape, folders) if shape), None)


def inference_resources(entry: ModelEntry, rule: str, config: WorkflowConfig) -> dict[str, int]:
    """An answering or perplexity job's resources: the rule's, plus the GPUs a bf16 copy of the model needs and
    the host memory that goes with them."""
    from lhama.plan import inference_gpus

    values = entry.rule_resources(rule)
    gpus = inference_gpus(entry.spec.params, config.cluster)
    values["gpu"] = gpus
    if gpus:
        values["mem_mb"] = max(values.get("mem_mb", 0), gpus * config.cluster.mem_mb_per_gpu // 2)
    return values
