"""The catalogue of ptwiki's text-producing templates: `lhama/data/templates.yaml` and `languages.yaml`, read once.

The data says, for each template, what a reader sees where it stands (a small format language, or the name of a
renderer written in `templates.py` for what a format cannot say); this module only reads and checks it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lhama.errors import LhamaError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TEMPLATES_PATH = DATA_DIR / "templates.yaml"
LANGUAGES_PATH = DATA_DIR / "languages.yaml"
RENDERERS = frozenset({"format", "date", "death", "convert", "list", "caption"})
FILTERS = frozenset({"number", "language", "country", "lower", "upper", "ucfirst", "lcfirst"})
_FORMAT_TOKEN = re.compile(r"\{([^{}]*)\}|\[|\]|[^{}\[\]]+")


class CatalogueError(LhamaError):
    """The template catalogue file is malformed: names the file, the entry and what is wrong."""


@dataclass(frozen=True)
class Placeholder:
    """`{2|1:number}`: the first non-empty of these parameters, through an optional filter."""

    keys: tuple[str, ...]
    filter: str | None = None


@dataclass(frozen=True)
class OptionalPart:
    """`[ ... ]`: shown only when every placeholder inside it is non-empty."""

    parts: tuple


@dataclass(frozen=True)
class Renderer:
    kind: str
    format: tuple = ()
    separator: str = " · "
    params: tuple[str, ...] = ()
    numbered: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unit:
    symbol: str
    dimension: str
    factor: float
    default: str | None = None
    offset: float = 0.0


@dataclass(frozen=True)
class Catalogue:
    templates: Mapping[str, Renderer]
    families: tuple[tuple[str, Renderer], ...] = ()
    countries: Mapping[str, str] = field(default_factory=dict)
    country_flag_suffix: str = "b"
    languages: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, Unit] = field(default_factory=dict)
    convert_ranges: Mapping[str, str] = field(default_factory=dict)
    silent_names: frozenset[str] = frozenset()
    silent_prefixes: tuple[str, ...] = ()
    resolved: dict = field(default_factory=dict, compare=False, repr=False)  # raw template name -> its meaning

    def is_silent(self, folded_name: str) -> bool:
        return folded_name in self.silent_names or folded_name.startswith(self.silent_prefixes)


def template_key(name: str) -> str:
    """A template name as MediaWiki compares it: `_` is a space, spaces collapse, the first letter in any case."""
    name = " ".join(name.replace("_", " ").split())
    return name[:1].casefold() + name[1:]


def parse_format(text: str, where: str) -> tuple:
    """`"[em {@suffix:language}: ]{1}"` -> (OptionalPart(("em ", Placeholder(("@suffix",), "language"), ": ")), ...)."""
    stack: list[list] = [[]]
    for match in _FORMAT_TOKEN.finditer(text):
        token = match.group()
        if token == "[":
            stack.append([])
        elif token == "]":
            if len(stack) == 1:
                raise CatalogueError(f"{where}: unbalanced ']' in format {text!r}")
            parts = stack.pop()
            stack[-1].append(OptionalPart(tuple(parts)))
        elif match.group(1) is not None:
            spec, _, filter_name = match.group(1).partition(":")
            keys = tuple(key.strip() for key in spec.split("|") if key.strip())
            if not keys:
                raise CatalogueError(f"{where}: empty placeholder in format {text!r}")
            if filter_name and filter_name not in FILTERS:
                raise CatalogueError(f"{where}: unknown filter {filter_name!r} (known: {', '.join(sorted(FILTERS))})")
            stack[-1].append(Placeholder(keys, filter_name or None))
        else:
            stack[-1].append(token)
    if len(stack) != 1:
        raise CatalogueError(f"{where}: unclosed '[' in format {text!r}")
    if "{" in "".join(part for part in stack[0] if isinstance(part, str)):
        raise CatalogueError(f"{where}: unbalanced '{{' in format {text!r}")
    return tuple(stack[0])


def _renderer(entry: Mapping, where: str) -> Renderer:
    if "format" in entry:
        if not isinstance(entry["format"], str):
            raise CatalogueError(f"{where}: 'format' must be a string")
        return Renderer("format", parse_format(entry["format"], where))
    kind = entry.get("render")
    if kind not in RENDERERS:
        renderers = ", ".join(sorted(RENDERERS - {"format"}))
        raise CatalogueError(f"{where}: needs 'format' or 'render' (one of {renderers})")
    return Renderer(kind, separator=str(entry.get("separator", " · ")),
                    params=tuple(str(p) for p in entry.get("params", ())),
                    numbered=tuple(str(p) for p in entry.get("numbered", ())))


def _mapping(document: Mapping, key: str, path: Path) -> Mapping:
    value = document.get(key) or {}
    if not isinstance(value, Mapping):
        raise CatalogueError(f"{path}: '{key}' must be a mapping")
    return value


def _unit(symbol_key: str, spec: object, path: Path) -> Unit:
    where = f"{path}: units.{symbol_key}"
    if not isinstance(spec, Mapping) or not {"symbol", "dimension", "factor"} <= set(spec):
        raise CatalogueError(f"{where}: needs symbol, dimension and factor")
    try:
        return Unit(str(spec["symbol"]), str(spec["dimension"]), float(spec["factor"]),
                    str(spec["default"]) if spec.get("default") is not None else None, float(spec.get("offset", 0.0)))
    except (TypeError, ValueError) as error:
        raise CatalogueError(f"{where}: {error}") from None


def load_catalogue(path: Path = TEMPLATES_PATH, languages_path: Path = LANGUAGES_PATH) -> Catalogue:
    """Read and check the catalogue; a malformed file is one CatalogueError naming it and the entry."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        languages = yaml.load(languages_path.read_text(encoding="utf-8"),
                              Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CatalogueError(f"cannot read the template catalogue: {error}") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("templates"), list):
        raise CatalogueError(f"{path}: expected a mapping with a 'templates' list")
    if not isinstance(languages, Mapping):
        raise CatalogueError(f"{languages_path}: expected a mapping of language codes to names")
    templates: dict[str, Renderer] = {}
    for number, entry in enumerate(document["templates"], start=1):
        where = f"{path}: templates #{number}"
        names = entry.get("names") if isinstance(entry, Mapping) else None
        if not isinstance(names, list) or not names:
            raise CatalogueError(f"{where}: needs a non-empty 'names' list")
        renderer = _renderer(entry, f"{where} ({names[0]})")
        for name in names:
            key = template_key(str(name))
            if key in templates:
                raise CatalogueError(f"{where}: {name!r} is listed twice")
            templates[key] = renderer
    families = []
    for number, entry in enumerate(document.get("families") or [], start=1):
        if not isinstance(entry, Mapping) or not entry.get("prefix"):
            raise CatalogueError(f"{path}: families #{number} needs a 'prefix'")
        families.append((template_key(str(entry["prefix"])), _renderer(entry, f"{path}: families #{number}")))
    silent = _mapping(document, "silent", path)
    return Catalogue(
        templates=templates,
        families=tuple(families),
        countries={str(code): str(name) for code, name in _mapping(document, "countries", path).items()},
        country_flag_suffix=str(document.get("country_flag_suffix", "b")),
        languages={str(code).casefold(): str(name) for code, name in languages.items()},
        units={str(key): _unit(str(key), spec, path) for key, spec in _mapping(document, "units", path).items()},
        convert_ranges={str(key): str(value) for key, value in _mapping(document, "convert_ranges", path).items()},
        silent_names=frozenset(" ".join(str(name).split()).casefold() for name in silent.get("names", ())),
        silent_prefixes=tuple(str(prefix).casefold() for prefix in silent.get("prefixes", ())),
    )


@functools.cache
def default_catalogue() -> Catalogue:
    return load_catalogue()
