"""The config's JSON schema (`workflow/schemas/config.schema.yaml`, where the Snakemake catalog looks for it) and
its reference page (`config/README.md`), both generated from the section classes so neither can drift from them."""

from __future__ import annotations

import copy
import dataclasses
import json
import typing
from typing import Any

import yaml
from pydantic import TypeAdapter

from lhama.config.sections import WorkflowConfig

SCHEMA_PATH = "workflow/schemas/config.schema.yaml"
DOCS_PATH = "config/README.md"
GENERATED = "generated from lhama.config.sections by `lhama config {what}`; edit the classes, not this file"


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of the whole config, nested sections inlined, without pydantic's titles."""
    schema = TypeAdapter(WorkflowConfig).json_schema(mode="validation")
    definitions = schema.pop("$defs", {})
    inlined = _inline(schema, definitions)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_without_titles(inlined)}


def _inline(node: Any, definitions: dict) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = copy.deepcopy(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def _without_titles(node: Any) -> Any:
    """pydantic's generated titles dropped; descriptions (attribute docstrings) on one line."""
    if isinstance(node, dict):
        return {key: " ".join(value.split()) if key == "description" and isinstance(value, str)
                else _without_titles(value)
                for key, value in node.items() if not (key == "title" and isinstance(value, str))}
    if isinstance(node, list):
        return [_without_titles(item) for item in node]
    return node


def schema_yaml() -> str:
    header = f"# The lhama workflow config, {GENERATED.format(what='schema')}.\n"
    return header + yaml.safe_dump(json_schema(), sort_keys=False, allow_unicode=True, width=110)


# ---------------------------------------------------------------------------------------------------- reference page


def _type_name(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(arg) for arg in args)
    if origin in (typing.Union, type(int | None)):
        return " \\| ".join(_type_name(arg) for arg in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping of {_type_name(args[1])}"
    if hint is type(None):
        return "null"
    if dataclasses.is_dataclass(hint):
        return "section"
    return getattr(hint, "__name__", str(hint))


def _default(item: dataclasses.Field) -> str:
    if item.default is not dataclasses.MISSING:
        value = item.default
    elif item.default_factory is not dataclasses.MISSING:
        value = item.default_factory()
    else:
        return "required"
    if dataclasses.is_dataclass(value):
        return "see below"
    if isinstance(value, dict) and value and all(dataclasses.is_dataclass(v) for v in value.values()):
        value = {key: {k: v for k, v in dataclasses.asdict(entry).items() if v is not None}
                 for key, entry in value.items()}
    text = json.dumps(value, ensure_ascii=False)
    return f"`{text}`" if len(text) < 90 else f"`{text[:86]}…`"


def _rows(cls: type, prefix: str, sections: list) -> list[str]:
    hints = typing.get_type_hints(cls, include_extras=True)
    docs = _field_docs(cls)
    rows = []
    for item in dataclasses.fields(cls):
        key = f"{prefix}{item.name}"
        hint = hints[item.name]
        nested = _nested_class(hint)
        if nested is not None and typing.get_origin(_strip(hint)) is not dict:
            sections.append((key, nested))
            continue
        if nested is not None:
            sections.append((f"{key}.NAME", nested))
        description = " ".join((docs.get(item.name) or "").split()).replace("|", "\\|")
        rows.append(f"| `{key}` | {_type_name(hint)} | {_default(item)} | {description} |")
    return rows


def _strip(hint: Any) -> Any:
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return hint


def _nested_class(hint: Any) -> type | None:
    hint = _strip(hint)
    if dataclasses.is_dataclass(hint):
        return hint
    if typing.get_origin(hint) is dict:
        value = typing.get_args(hint)[1]
        members = typing.get_args(value) if typing.get_origin(value) in (typing.Union, type(int | None)) else (value,)
        return next((member for member in members if dataclasses.is_dataclass(member)), None)
    return None


def _field_docs(cls: type) -> dict[str, str]:
    fields = getattr(cls, "__pydantic_fields__", {})
    return {name: info.description or "" for name, info in fields.items()}


def docs_markdown() -> str:
    """config/README.md: every key of every section with its type, default and description."""
    lines = [
        "# Configuration", "",
        f"<!-- {GENERATED.format(what='docs')} -->", "",
        "`config/config.yaml` is the embedded demo; a cluster config such as `config/atena.yaml` is merged on top "
        "(`snakemake --configfile config/atena.yaml`), and `--config key=value` on top of that. A key left out "
        "takes the default below. The machine-readable form is "
        f"[`{SCHEMA_PATH}`](../{SCHEMA_PATH}); `lhama config show` prints the configuration a run would use.", "",
    ]
    queue: list = [("", WorkflowConfig)]
    while queue:
        key, cls = queue.pop(0)
        nested: list = []
        title = f"`{key}`" if key else "Top level"
        lines += [f"## {title}", "", " ".join((cls.__doc__ or "").split()), "",
                  "| key | type | default | description |", "| --- | --- | --- | --- |"]
        lines += _rows(cls, f"{key}." if key else "", nested)
        lines.append("")
        queue = nested + queue
    return "\n".join(lines)
