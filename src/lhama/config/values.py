"""The section classes' common settings and types, and parsers of single config values shared with the code that
takes the same values from elsewhere (a model's source on the command line, a parameter count in `lhama plan`)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

# every section class: unknown keys refused, numbers accepted where text is expected (`--config dump=2024`), the
# attribute docstrings as descriptions (the schema and config/README.md are made from them)
SECTION = ConfigDict(extra="forbid", coerce_numbers_to_str=True, use_attribute_docstrings=True)

PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]

_PARAMS = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMbBtT]?)\s*$")
_SUFFIX = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
PARAMS_PATTERN = _PARAMS.pattern


def parse_params(value: Any) -> float:
    """A parameter count: 1.35e8, "1.35e8" (YAML 1.1 reads that as a string), "135M", "7B", "70b" -> float."""
    if isinstance(value, bool):
        raise ValueError(f"expected a parameter count like 1.35e8 or '7B', got {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and (match := _PARAMS.match(value)):
        number = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    else:
        raise ValueError(f"expected a parameter count like 1.35e8 or '7B', got {value!r}")
    if not number > 0:
        raise ValueError(f"must be positive, got {value!r}")
    return number


_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HUB_REPO = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+|[A-Za-z0-9][\w.-]*")


def split_gguf_source(source: str) -> tuple[str, str]:
    """(module, file) of `gguf-package:<module>/<file.gguf>`; ValueError for anything else."""
    module, _, file = source.removeprefix("gguf-package:").partition("/")
    if not _MODULE.fullmatch(module) or not file.endswith(".gguf") or ".." in file.split("/") \
            or file.startswith("/"):
        raise ValueError(f"{source!r}: expected gguf-package:<top-level module>/<file.gguf>")
    return module, file


def check_source(source: str, revision: str | None = None) -> None:
    """A model source's syntax (nothing is looked up): ValueError naming what is wrong."""
    if source.startswith("gguf-package:"):
        split_gguf_source(source)
    elif source.startswith("hub:") and not _HUB_REPO.fullmatch(source.removeprefix("hub:")):
        raise ValueError(f"{source!r}: expected hub:<owner>/<name>")
    if revision is not None and not source.startswith("hub:"):
        raise ValueError("`revision` is only meaningful for `hub:` sources")


def deep_merge(base: dict, override: dict) -> dict:
    """`override` on top of `base`, recursing into mappings (as Snakemake merges --configfile files)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
