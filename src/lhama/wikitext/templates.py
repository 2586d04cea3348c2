"""Templates: each `{{...}}` replaced by what a reader sees, from the catalogue (`lhama/data/templates.yaml`).

Innermost templates are rendered first, one C-speed regex pass per nesting level, so a template sees its
parameters already rendered (an infobox gets `12 de novembro de 1746`, not `{{dni|12|11|1746}}`). Templates the
catalogue does not know render nothing and are counted by name in `TemplateStats.dropped`; the `silent` ones
(references, maintenance, navigation) render nothing and are not counted. `{{Info/...}}` infoboxes go to a callback.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lhama.wikitext.catalogue import Catalogue, OptionalPart, Placeholder, Renderer, default_catalogue, template_key
from lhama.wikitext.markers import CAPTION

MONTHS_PT = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)
MAX_LIST_ITEMS = 200

_TEMPLATE_PARAMETER = re.compile(r"\{\{\{[^{}]*\}\}\}")
_INNERMOST_TEMPLATE = re.compile(r"\{\{([^{}]*)\}\}")
_PARAM_TOKENS = re.compile(r"\{\{|\}\}|\[\[|\]\]|\|")
_PLAIN_NUMBER = re.compile(r"([+\-−]?)(\d+)(?:\.(\d+))?")
_NAMED_PARAM = re.compile(r"\s*([^=\[\]{}|]*?)\s*=(.*)", re.S)
_FLAG_CODE = re.compile(r"[A-Z]{2,3}(?:-[A-Z]{2,4})+")  # a place code: BR-MG-BHE

InfoboxCallback = Callable[[str, list[str]], None]


@dataclass
class TemplateStats:
    """What the templates of one text became: how many rendered, and the unknown ones dropped, by name."""

    rendered: int = 0
    dropped: Counter = field(default_factory=Counter)


# ---------------------------------------------------------------------------------------------------- parameters


def split_params(inner: str) -> list[str]:
    """Split a template body on the `|` that are not inside nested templates or links."""
    if "[[" not in inner and "{{" not in inner:  # the common case: innermost templates hold no template
        return inner.split("|")
    parts: list[str] = []
    depth = 0
    start = 0
    for match in _PARAM_TOKENS.finditer(inner):
        token = match.group()
        if token in ("{{", "[["):
            depth += 1
        elif token in ("}}", "]]"):
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append(inner[start : match.start()])
            start = match.end()
    parts.append(inner[start:])
    return parts


def template_params(raw_params: list[str], first_number: int = 1) -> dict[str, str]:
    """`["a", "x = b", "c"]` -> {"1": "a", "x": "b", "2": "c"}: numbered as MediaWiki numbers unnamed ones."""
    params: dict[str, str] = {}
    number = first_number
    for raw in raw_params:
        equals = raw.find("=")
        link = raw.find("[[") if equals >= 0 else -1
        named = _NAMED_PARAM.match(raw) if equals >= 0 and (link < 0 or equals < link) else None
        if named and named.group(1):
            params[named.group(1)] = named.group(2).strip()
        else:
            params[str(number)] = raw.strip()
            number += 1
    return params


def positional(params: Mapping[str, str]) -> list[str]:
    values = []
    number = 1
    while str(number) in params:
        values.append(params[str(number)])
        number += 1
    return values


# ---------------------------------------------------------------------------------------------------- numbers


def group_digits(digits: str) -> str:
    """`3165` -> `3 165`: ptwiki groups thousands with a space, from four digits on."""
    if len(digits) < 4:
        return digits
    head = len(digits) % 3 or 3
    return digits[:head] + "".join(" " + digits[start : start + 3] for start in range(head, len(digits), 3))


def format_number(text: str) -> str:
    """A plain number (`24.88`, `-105`, `21069501`) in ptwiki's format (`24,88`, `-105`, `21 069 501`); anything
    else is returned as written."""
    candidate = text.strip()
    match = _PLAIN_NUMBER.fullmatch(candidate)
    if match is None:
        return candidate
    sign, integer, decimals = match.groups()
    return sign + group_digits(integer) + ("," + decimals if decimals else "")


def _significant_digits(text: str) -> int:
    digits = text.strip().lstrip("+-−")
    if "." in digits:
        count = len(digits.replace(".", "").lstrip("0"))
    else:
        count = len(digits.lstrip("0").rstrip("0"))
    return max(2, min(count, 4))


def format_rounded(value: float, significant: int) -> str:
    """`6.21371` with 2 significant digits -> `6,2`; `22841.2` with 4 -> `22 840`."""
    if value == 0 or not math.isfinite(value):
        return "0"
    decimals = significant - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    text = f"{rounded:.{max(decimals, 0)}f}"
    return format_number(text)


# ---------------------------------------------------------------------------------------------------- renderers


def _format_date(day: str, month: str, year: str) -> str:
    if month.isdigit() and 1 <= int(month) <= 12 and day.isdigit():
        return f"{int(day)} de {MONTHS_PT[int(month) - 1]} de {year}"
    if month.isdigit() and 1 <= int(month) <= 12:
        return f"{MONTHS_PT[int(month) - 1]} de {year}"
    return year


def _date_parts(values: list[str]) -> tuple[str, str, str]:
    """(day, month, year) from `d|m|y` or `y|m|d` (a four-digit first value is a year)."""
    if len(values[0]) == 4 and values[0].isdigit():
        year, month, day = (values + ["", ""])[:3]
        return day, month, year
    if len(values) >= 3:
        return values[0], values[1], values[2]
    return "", "", values[-1]


def render_date(values: list[str]) -> str:
    values = [value.strip() for value in values if value.strip()]
    if not values:
        return ""
    if len(values) < 3 and not (len(values[0]) == 4 and values[0].isdigit()):
        return values[-1]
    return _format_date(*_date_parts(values))


def render_death(values: list[str]) -> str:
    """`{{morte|21|4|1792|12|11|1746}}` -> `21 de abril de 1792 (45 anos)`: the date and the age at death."""
    values = [value.strip() for value in values if value.strip()]
    if len(values) < 6 or not all(value.isdigit() for value in values[:6]):
        return render_date(values[:3])
    death, birth = _date_parts(values[:3]), _date_parts(values[3:6])
    text = _format_date(*death)
    (day, month, year), (birth_day, birth_month, birth_year) = ((int(v) for v in death), (int(v) for v in birth))
    age = year - birth_year - ((month, day) < (birth_month, birth_day))
    return f"{text} ({age} anos)" if 0 <= age < 150 else text


def render_convert(values: list[str], catalogue: Catalogue) -> str:
    """`{{converter|10|km|mi}}` -> `10 km (6,2 mi)`; `{{converter|5|-|9|km}}` -> `5–9 km (3,1–5,6 mi)`."""
    values = [value.strip() for value in values]
    if not values or not values[0]:
        return ""
    numbers, rest = [values[0]], values[1:]
    joiner = ""
    if len(rest) >= 2 and rest[0] in catalogue.convert_ranges:
        joiner, numbers, rest = catalogue.convert_ranges[rest[0]], numbers + [rest[1]], rest[2:]
    shown = joiner.join(format_number(number) for number in numbers)
    unit_name = rest[0] if rest else ""
    unit = catalogue.units.get(unit_name)
    if unit is None:
        return f"{shown} {unit_name}".strip()
    text = f"{shown} {unit.symbol}"
    target = catalogue.units.get((rest[1] if len(rest) > 1 and rest[1] else None) or unit.default or "")
    if target is None or target.dimension != unit.dimension:
        return text
    try:
        amounts = [float(number) for number in numbers]
    except ValueError:
        return text
    converted = [((amount * unit.factor + unit.offset) - target.offset) / target.factor for amount in amounts]
    digits = min(_significant_digits(number) for number in numbers)
    return f"{text} ({joiner.join(format_rounded(value, digits) for value in converted)} {target.symbol})"


def _filtered(value: str, filter_name: str | None, catalogue: Catalogue) -> str:
    if not filter_name or not value:
        return value
    if filter_name == "number":
        return format_number(value)
    if filter_name == "language":
        code = value.casefold()
        return catalogue.languages.get(code) or catalogue.languages.get(code.split("-", 1)[0], "")
    if filter_name == "country":
        return catalogue.countries.get(value, value)
    if filter_name == "lower":
        return value.lower()
    if filter_name == "upper":
        return value.upper()
    if filter_name == "ucfirst":
        return value[:1].upper() + value[1:]
    return value[:1].lower() + value[1:]  # lcfirst


def _fill(parts: tuple, params: Mapping[str, str], catalogue: Catalogue) -> tuple[str, bool]:
    """The format's text, and whether every placeholder in it had a value."""
    out: list[str] = []
    complete = True
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Placeholder):
            value = next((params[key].strip() for key in part.keys if params.get(key, "").strip()), "")
            value = _filtered(value, part.filter, catalogue)
            complete = complete and bool(value)
            out.append(value)
        elif isinstance(part, OptionalPart):
            text, inner_complete = _fill(part.parts, params, catalogue)
            if inner_complete:
                out.append(text)
    return "".join(out), complete


def render_format(parts: tuple, params: Mapping[str, str], catalogue: Catalogue) -> str:
    return _fill(parts, params, catalogue)[0]


def _render(renderer: Renderer, params: dict[str, str], catalogue: Catalogue) -> str:
    kind = renderer.kind
    if kind == "format":
        parts = renderer.format
        if len(parts) == 1 and type(parts[0]) is Placeholder and parts[0].filter is None:  # "{1}", "{2|1}"
            return next((params[key].strip() for key in parts[0].keys if params.get(key, "").strip()), "")
        return render_format(parts, params, catalogue)
    if kind == "date":
        return render_date(positional(params))
    if kind == "death":
        return render_death(positional(params))
    if kind == "convert":
        return render_convert(positional(params), catalogue)
    if kind == "list":
        return renderer.separator.join(value for value in positional(params)[:MAX_LIST_ITEMS] if value)
    captions = [params[key] for key in renderer.params if params.get(key)]
    for base in renderer.numbered:
        captions.extend(params[f"{base}{n}"] for n in range(1, MAX_LIST_ITEMS) if params.get(f"{base}{n}"))
    return "".join(f"{CAPTION}{caption}{CAPTION}" for caption in captions)


# ---------------------------------------------------------------------------------------------------- templates


def _magic_name(name: str, argument: str) -> str:
    """The name a parser function or magic word is counted under: `#if`, `#invoke:Coordenadas`, `PAGENAME`."""
    if name.casefold() == "#invoke":
        return f"{name}:{argument.strip()}"
    return name


@dataclass(frozen=True)
class _Resolution:
    """What a template name means: `action` is one of the constants below; `renderer` and `context` for RENDER,
    `text` the shown text for TEXT and the counted name for DROP."""

    action: int
    renderer: Renderer | None = None
    context: tuple[tuple[str, str], ...] = ()
    first_number: int = 1
    text: str = ""


INFOBOX, RENDER, TEXT, SILENT, DROP = range(5)
_SILENT = _Resolution(SILENT)
_INFOBOX = _Resolution(INFOBOX)
MAX_RESOLVED_NAMES = 100_000


def _resolve(raw_name: str, catalogue: Catalogue) -> _Resolution:
    name = " ".join(raw_name.replace("_", " ").split())
    head = name[:8].casefold()
    if head.startswith("info/") or head.startswith("infobox"):
        return _INFOBOX
    key = name[:1].casefold() + name[1:]
    renderer = catalogue.templates.get(key)
    if renderer is not None:
        return _Resolution(RENDER, renderer, (("@name", name),))
    if ":" in name:  # a magic word or parser function: {{formatnum:1234}}, {{#if:...}}
        magic, _, argument = raw_name.partition(":")
        renderer = catalogue.templates.get(template_key(magic))
        if renderer is not None:
            return _Resolution(RENDER, renderer, (("@name", magic.strip()), ("1", argument)), first_number=2)
        if magic.strip().startswith("#"):
            name = _magic_name(" ".join(magic.split()), argument)
    for prefix, family in catalogue.families:
        if key.startswith(prefix) and len(key) > len(prefix):
            return _Resolution(RENDER, family, (("@name", name), ("@suffix", name[len(prefix):])))
    if name.isupper() and name in catalogue.countries:  # {{BRA}}: the flag and the name
        return _Resolution(TEXT, text=catalogue.countries[name])
    suffix = catalogue.country_flag_suffix
    if name.endswith(suffix) and (name[:-1] in catalogue.countries or _FLAG_CODE.fullmatch(name[: -len(suffix)])):
        return _Resolution(TEXT)  # {{BRAb}}, {{BR-MG-BHEb}}: the flag alone
    folded = name.casefold()
    if catalogue.is_silent(folded) or catalogue.is_silent(folded.partition(":")[0]):
        return _SILENT
    return _Resolution(DROP, text=name[:1].upper() + name[1:])  # as its page is named: Predefinição:Coord


def _render_template(inner: str, on_infobox: InfoboxCallback, stats: TemplateStats, catalogue: Catalogue) -> str:
    raw_name = inner.partition("|")[0]
    resolution = catalogue.resolved.get(raw_name)
    if resolution is None:
        resolution = _resolve(raw_name, catalogue)
        if ":" not in raw_name:  # names repeat across pages; a magic word's name holds its argument
            if len(catalogue.resolved) >= MAX_RESOLVED_NAMES:
                catalogue.resolved.clear()
            catalogue.resolved[raw_name] = resolution
    action = resolution.action
    if action == SILENT:
        return ""
    if action == DROP:
        stats.dropped[resolution.text] += 1
        return ""
    stats.rendered += action != INFOBOX
    if action == TEXT:
        return resolution.text
    params = split_params(inner)
    if action == INFOBOX:
        on_infobox(params[0].strip(), params[1:])
        return ""
    values = template_params(params[1:], resolution.first_number)
    values.update(resolution.context)
    return _render(resolution.renderer, values, catalogue)


def _ignore_infobox(name: str, params: list[str]) -> None:
    return None


def render_templates(text: str, on_infobox: InfoboxCallback | None = None, stats: TemplateStats | None = None,
                     catalogue: Catalogue | None = None) -> str:
    """Replace every `{{...}}` by what it shows (nothing, for most); `{{{params}}}` are dropped.

    `on_infobox(name, raw_params)` is called for each `{{Info/...}}`, in document order within a nesting level;
    `stats` counts what rendered and what was dropped.
    """
    if "{{" not in text:
        return text
    if "{{{" in text:
        text = _remove_repeatedly(_TEMPLATE_PARAMETER, text)
    callback = on_infobox or _ignore_infobox
    counts = stats if stats is not None else TemplateStats()
    known = catalogue or default_catalogue()
    replace = lambda match: _render_template(match.group(1), callback, counts, known)  # noqa: E731
    while "{{" in text:
        text, count = _INNERMOST_TEMPLATE.subn(replace, text)
        if not count:
            break  # unbalanced braces: left for the tidy pass to strip
    return text


def _remove_repeatedly(pattern: re.Pattern, text: str) -> str:
    while True:
        text, count = pattern.subn("", text)
        if not count:
            return text
