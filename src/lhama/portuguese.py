"""Portuguese articles and their contractions, for the questions and answers built from articles.

Portuguese puts a definite article before many names (`o Brasil`, `a Bahia`, `os Estados Unidos`) and none before
others (`Portugal`, `Minas Gerais`), and contracts it with the preposition before it (`do Brasil`, `no Rio de
Janeiro`, `da Bahia`). Which one a name takes is read from how the article's own lead names it ("O Brasil é...",
"A Bahia é...", "Minas Gerais é..."); for a name with no lead at hand (an infobox value) a short list of places
(`lhama/data/place_articles.yaml`) says it; where nothing says, the bare name is used.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from lhama.errors import LhamaError

ARTICLES = ("o", "a", "os", "as")
CONTRACTIONS: dict[tuple[str, str], str] = {
    (preposition, article): form
    for preposition, forms in {
        "de": ("do", "da", "dos", "das"),
        "em": ("no", "na", "nos", "nas"),
        "por": ("pelo", "pela", "pelos", "pelas"),
        "a": ("ao", "à", "aos", "às"),
    }.items()
    for article, form in zip(ARTICLES, forms)
}
PLACE_ARTICLES_PATH = Path(__file__).resolve().parent / "data" / "place_articles.yaml"
BARE = ""  # the name is said without an article

_LEAD_START = re.compile(r"\s*(?:(O|A|Os|As)\s+)?(\S)")
_SLOT = re.compile(r"\{\{|\}\}|(?:\b(de|em|por|para|com)\s+)?\{(\w+)\}")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+)$")
_ARTICLE_BEFORE = re.compile(r"(?:^|\s)(?:o|a|os|as|um|uma)\s+$", re.I)
_VALUE_HEAD = re.compile(r"[,;(]")


def article_from_lead(name: str, lead: str) -> str | None:
    """The article `lead` gives `name` when it opens with it: "O Brasil é..." -> "o"; "Minas Gerais é..." -> BARE
    (""); None when the lead does not open with the name. The name's first letter may differ in case ("O rio
    Amazonas" for "Rio Amazonas")."""
    match = _LEAD_START.match(lead)
    if not match or not name:
        return None
    rest = lead[match.start(2):]
    if not (rest[:1].casefold() == name[:1].casefold() and rest[1:len(name)] == name[1:]):
        return None
    after = rest[len(name):len(name) + 1]
    if after and (after.isalnum() or after == "-"):
        return None  # the lead opens with a longer word
    return match.group(1).lower() if match.group(1) else BARE


@functools.cache
def place_articles(path: Path = PLACE_ARTICLES_PATH) -> dict[str, str]:
    """Names (countries, states, continents, cities) and the article they take: `Brasil: o`, `Portugal: ""`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise LhamaError(f"{path}: cannot read the list of place articles: {error}") from None
    if not isinstance(data, dict) or not all(str(value) in ARTICLES + (BARE,) for value in data.values()):
        raise LhamaError(f"{path}: expected a mapping of names to one of o, a, os, as or '' (no article)")
    return {str(name): str(article) for name, article in data.items()}


def article_for(name: str, lead: str = "") -> str | None:
    """The article of `name`: from its lead when the lead opens with it, else from the list of places, else None."""
    found = article_from_lead(name, lead) if lead else None
    if found is None:
        found = place_articles().get(name)
    return found


def value_article(value: str) -> str | None:
    """The article of an infobox value such as `Rio de Janeiro` or `Vila Rica, Minas Gerais` (its first place)."""
    head = _VALUE_HEAD.split(value, 1)[0].strip()
    return place_articles().get(head)


def noun_phrase(name: str, article: str | None, preposition: str | None = None, *, capitalized: bool = False) -> str:
    """`("Brasil", "o", "de")` -> `do Brasil`; `("Bahia", "a")` -> `a Bahia`; with no article, the bare name."""
    if not article:
        return f"{preposition} {name}" if preposition else name
    if preposition:
        joined = CONTRACTIONS.get((preposition, article))
        phrase = f"{joined} {name}" if joined else f"{preposition} {article} {name}"
    else:
        phrase = f"{article} {name}"
    return phrase[:1].upper() + phrase[1:] if capitalized else phrase


def fill(template: str, **slots: tuple[str, str | None]) -> str:
    """Fill a question or answer template's `{slot}`s with names and the articles they take.

    `fill("Qual é a capital de {title}?", title=("Brasil", "o"))` -> `Qual é a capital do Brasil?`;
    `fill("{title} morreu em {value}.", title=("Tiradentes", None), value=("Rio de Janeiro", "o"))` ->
    `Tiradentes morreu no Rio de Janeiro.`; `O que é {title}?` -> `O que é a Bahia?`. A slot after an article
    already in the template (`o {title}`) gets the bare name; one at a sentence's start a capital article.
    `{{`/`}}` are literal braces, as in `str.format`.
    """
    out: list[str] = []
    position = 0
    for match in _SLOT.finditer(template):
        token = match.group()
        out.append(template[position : match.start()])
        position = match.end()
        if token in ("{{", "}}"):
            out.append(token[0])
            continue
        preposition, slot = match.group(1), match.group(2)
        if slot not in slots:
            raise KeyError(slot)
        name, article = slots[slot]
        before = "".join(out)
        if preposition:
            out.append(noun_phrase(name, article, preposition))
        elif _ARTICLE_BEFORE.search(before):
            out.append(name)
        else:
            out.append(noun_phrase(name, article, capitalized=bool(_SENTENCE_START.search(before))))
    out.append(template[position:])
    return "".join(out)
