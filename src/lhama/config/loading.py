"""Reading the workflow configuration: YAML files merged as Snakemake merges them, checked against the section
classes, with one clear line naming the first bad key; and the model registry they describe."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from lhama.config.sections import (
    ModelConfig, ResourceConfig, TrainConfig, WorkflowConfig,
)
from lhama.config.values import deep_merge
from lhama.errors import ConfigError

DEFAULT_CONFIG = "config/config.yaml"
Section = TypeVar("Section")


def to_dict(section: Any) -> dict:
    """A section as plain data (what rule params and JSON files hold)."""
    return dataclasses.asdict(section)


def parse(cls: type[Section], value: Any, key: str = "", *, source: str | None = None) -> Section:
    """`cls` built from a mapping (or an existing instance, re-checked); a `ConfigError` names the first bad key
    in full (`rag.retriever.k`) with what is wrong."""
    if isinstance(value, cls):
        value = to_dict(value)
    try:
        return TypeAdapter(cls).validate_python({} if value is None else value)
    except ValidationError as error:
        raise config_error(error, cls, key, source) from None


def config_error(error: ValidationError, cls: type, prefix: str = "", source: str | None = None) -> ConfigError:
    """The first problem of a pydantic `ValidationError` as a `ConfigError` naming the key."""
    problem = error.errors(include_url=False)[0]
    path, expected = _key_path(cls, problem["loc"])
    key = ".".join([part for part in [prefix] if part] + [str(part) for part in path]) or "(top level)"
    if problem["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        allowed = ", ".join(sorted(expected)) if expected else "none"
        return ConfigError(key, f"unknown key (allowed here: {allowed})", source=source)
    if problem["type"] == "missing_argument" or problem["type"] == "missing":
        return ConfigError(key, "required", source=source)
    message = problem["msg"].removeprefix("Value error, ")
    given = problem.get("input")
    if isinstance(given, (str, int, float, bool)) and problem["type"] not in ("value_error", "assertion_error"):
        message += f" (got {given!r})"
    return ConfigError(key, message, source=source)


def _key_path(cls: type, loc: Sequence) -> tuple[list, set[str]]:
    """The config keys of a pydantic error location (union-member tags dropped) and, for an unknown key, the keys
    allowed beside it."""
    current: Any = cls
    path: list = []
    allowed: set[str] = set()
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad mapping key: the key itself is already in the path
            continue
        current = _unwrap(current)
        if dataclasses.is_dataclass(current):
            hints = typing.get_type_hints(current, include_extras=True)
            if part in hints:
                path.append(part)
                current = hints[part]
                continue
            allowed = {item.name for item in dataclasses.fields(current)}
            path.append(part)
            current = Any
        elif typing.get_origin(current) is dict:
            path.append(part)
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) is list:
            path.append(part)
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) in (typing.Union, _UnionType):
            members = [member for member in typing.get_args(current) if member is not type(None)]
            current = next((member for member in members if dataclasses.is_dataclass(_unwrap(member))),
                           members[0] if members else Any)
            # a union-member tag such as 'ModelConfig' or "literal['auto']": not a key
        else:
            path.append(part)
    return path, allowed


_UnionType = type(int | None)


def _unwrap(hint: Any) -> Any:
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, _UnionType) and len(args) == 2 and type(None) in args:
        return next(arg for arg in args if arg is not type(None))
    return hint


# ---------------------------------------------------------------------------------------------------- files


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("--configfile", f"{path}: no such file") from None
    except yaml.YAMLError as error:
        raise ConfigError("--configfile", f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError("--configfile", f"{path}: expected a mapping of config keys")
    return loaded


def merged_files(files: Sequence[str | Path] = (), root: str | Path = ".") -> dict:
    """config/config.yaml with `files` merged on top, as `snakemake --configfile FILE...` merges them."""
    merged: dict = {}
    for name in [Path(root) / DEFAULT_CONFIG, *files]:
        merged = deep_merge(merged, read_yaml(name))
    return merged


def load_config(files: Sequence[str | Path] = (), root: str | Path = ".") -> WorkflowConfig:
    """The checked configuration a `snakemake --configfile FILE...` run would see."""
    source = ", ".join([DEFAULT_CONFIG, *map(str, files)])
    return check_references(parse(WorkflowConfig, merged_files(files, root), source=source), source)


def check_references(config: WorkflowConfig, source: str | None = None) -> WorkflowConfig:
    """Keys that name another part of the config name one that is there (`evaluate.judge`: a model)."""
    judge = config.evaluate.judge
    if judge is not None and config.models.get(judge) is None:
        known = ", ".join(config.models)
        raise ConfigError("evaluate.judge", f"{judge!r} is not a model of the registry ({known})", source=source)
    return config


# ---------------------------------------------------------------------------------------------------- model registry


@dataclass(frozen=True)
class ModelSpec:
    """Where one model's weights are. `params` is the declared size (sizes the jobs before any download);
    `chat_template`: True/False forces it on/off, None uses it when the tokenizer has one; `trust_remote_code` runs
    code shipped with the model, only ever from the config, off by default."""

    name: str
    source: str
    params: float | None = None
    trust_remote_code: bool = False
    revision: str | None = None
    chat_template: bool | None = None

    @property
    def kind(self) -> str:
        if self.source.startswith("gguf-package:"):
            return "gguf-package"
        if self.source.startswith("hub:"):
            return "hub"
        return "local"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ModelEntry:
    """One model of the registry: where it is, its training config (`train` merged with the model's own) and its
    resources by rule (`resources` merged with the model's own)."""

    spec: ModelSpec
    train: TrainConfig
    resources: dict[str, ResourceConfig]
    raft: TrainConfig | None = None

    def rule_resources(self, rule: str) -> dict[str, int]:
        return rule_resources(self.resources, rule)

    def adapter_train(self, adapter: str) -> TrainConfig:
        """The training config of one of the model's adapters: `tuned`, or `raft` (`raft.args` on top)."""
        if adapter == "raft" and self.raft is not None:
            return self.raft
        if adapter != "tuned":
            raise ConfigError("adapter", f"no adapter {adapter!r} (tuned or raft)")
        return self.train


def model_spec(name: str, model: ModelConfig) -> ModelSpec:
    return ModelSpec(name=name, source=model.source, params=model.params, trust_remote_code=model.trust_remote_code,
                     revision=model.revision, chat_template=model.chat_template)


def model_entries(config: WorkflowConfig) -> dict[str, ModelEntry]:
    """The registry (its null entries already gone), each model's overrides merged and checked (`models.NAME.train.KEY`)."""
    entries = {}
    for name, model in config.models.items():
        train = parse(TrainConfig, deep_merge(to_dict(config.train), model.train), f"models.{name}.train")
        resources = {**config.resources}
        for rule, override in model.resources.items():
            base = to_dict(resources.get(rule, ResourceConfig()))
            resources[rule] = ResourceConfig(**{**base, **{k: v for k, v in to_dict(override).items()
                                                           if v is not None}})
        raft = parse(TrainConfig, deep_merge(to_dict(train), config.raft.train_overrides()), f"models.{name}.train")
        entries[name] = ModelEntry(model_spec(name, model), train, resources, raft)
    return entries


def rule_resources(resources: Mapping[str, ResourceConfig], rule: str) -> dict[str, int]:
    """A rule's resources: `default` with the rule's own set values on top (unset ones left out)."""
    values: dict[str, int] = {}
    for name in ("default", rule):
        if name in resources:
            values |= {key: value for key, value in to_dict(resources[name]).items() if value is not None}
    return values
