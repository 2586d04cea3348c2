"""Instruction data from articles, without any external API, and question files.

Three kinds of examples, each keeping its source article:
- `infobox`: short-answer questions from infobox facts (dates and places of birth and death, foundation, capital...);
- `lead`: "Quem foi X?" / "O que é X?" answered by the first sentences of the lead;
- `section`: a question about one section, answered by that section's opening sentences.
Optionally `text` examples (title + article) for continued pre-training.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lhama.config.sections import PromptConfig, QAConfig
from lhama.portuguese import article_for, fill, value_article

# infobox field -> (question, answer sentence); `{title}` is the article, `{value}` the field's clean value.
DEFAULT_INFOBOX_QUESTIONS: dict[str, tuple[str, str]] = {
    "nome_completo": ("Qual é o nome completo de {title}?", "O nome completo de {title} é {value}."),
    "nascimento_data": ("Quando nasceu {title}?", "{title} nasceu em {value}."),
    "nascimento_local": ("Onde nasceu {title}?", "{title} nasceu em {value}."),
    "morte_data": ("Quando morreu {title}?", "{title} morreu em {value}."),
    "morte_local": ("Onde morreu {title}?", "{title} morreu em {value}."),
    "ocupação": ("Qual era a ocupação de {title}?", "A ocupação de {title} era: {value}."),
    "cônjuge": ("Quem foi o cônjuge de {title}?", "O cônjuge de {title} foi {value}."),
    "nacionalidade": ("Qual era a nacionalidade de {title}?", "A nacionalidade de {title} era {value}."),
    "fundação": ("Qual é a data de fundação de {title}?", "A fundação de {title} data de {value}."),
    "capital": ("Qual é a capital de {title}?", "A capital de {title} é {value}."),
    "língua_oficial": ("Qual é a língua oficial de {title}?", "A língua oficial de {title} é {value}."),
    "gentílico": ("Qual é o gentílico de {title}?", "O gentílico de {title} é {value}."),
    "estado": ("Em que estado fica {title}?", "{title} fica no estado de {value}."),
    "independência": ("Quando se deu a independência de {title}?", "A independência de {title} se deu em {value}."),
    "data": ("Quando ocorreu {title}?", "{title} ocorreu em {value}."),
    "local": ("Onde ocorreu {title}?", "{title} ocorreu em {value}."),
    "resultado": ("Qual foi o resultado de {title}?", "O resultado de {title} foi: {value}."),
    "nascente": ("Onde nasce o {title}?", "O {title} nasce em {value}."),
    "foz": ("Onde deságua o {title}?", "O {title} deságua em {value}."),
}
KINDS = ("infobox", "lead", "section")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"«(]?[A-ZÁÉÍÓÚÂÊÔÃÕÇ0-9])")
_ABBREVIATION = re.compile(r"(?:\b(?:D|Dr|Dra|Sr|Sra|St|Sto|Sta|Jr|séc|Prof|Gen|Cel|Cap|Mal|Pe|Fr|n|nº|p|pp|c|ca|et al|"
                           r"ex|etc|vol|Av|S)|\b[A-Z])\.$")
_DISAMBIGUATOR = re.compile(r"\s*\([^)]*\)$")
MAX_VALUE_CHARS = 150


@dataclass(frozen=True)
class QAOptions:
    """What the example builders read: the `qa` section, its infobox questions resolved, and the prompt."""

    prompt_template: str
    instruction: str
    infobox_questions: dict[str, tuple[str, str]]
    kinds: tuple[str, ...]
    lead_sentences: int
    section_sentences: int
    max_sections_per_article: int


def qa_options(qa: QAConfig | None = None, prompt: PromptConfig | None = None) -> QAOptions:
    """QAOptions from the `qa` and `prompt` config sections (their defaults when not given)."""
    qa, prompt = qa or QAConfig(), prompt or PromptConfig()
    questions = DEFAULT_INFOBOX_QUESTIONS if qa.infobox_questions is None else {
        key: (value.question, value.answer) for key, value in qa.infobox_questions.items()}
    return QAOptions(prompt_template=prompt.template, instruction=prompt.instruction,
                     infobox_questions=dict(questions), kinds=tuple(qa.kinds), lead_sentences=qa.lead_sentences,
                     section_sentences=qa.section_sentences, max_sections_per_article=qa.max_sections_per_article)


# ---------------------------------------------------------------------------------------------------- sentences


def sentences(text: str) -> list[str]:
    """Split Portuguese prose into sentences, not after abbreviations like `D.` or initials."""
    pieces = _SENTENCE_END.split(text.replace("\n", " "))
    merged: list[str] = []
    for piece in pieces:
        if merged and _ABBREVIATION.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return [sentence.strip() for sentence in merged if sentence.strip()]


def first_sentences(text: str, count: int) -> str:
    return " ".join(sentences(text)[:count])


def display_title(title: str) -> str:
    """`Estado Novo (Brasil)` -> `Estado Novo`."""
    return _DISAMBIGUATOR.sub("", title)


def _field_key(key: str) -> str:
    return key.strip().casefold().replace(" ", "_")


# ---------------------------------------------------------------------------------------------------- examples


def render_prompt(template: str, instruction: str, question: str, output: str) -> str:
    """The example as one text: the prompt without a chat template (`prompt.template`), then the answer."""
    return template.format_map({"instruction": instruction, "input": question}) + output


def _example(article: dict, kind: str, number: int, question: str, output: str, answers: list[str],
             options: QAOptions, **extra: str) -> dict:
    return {
        "id": f"{article['id']}-{kind}-{number}",
        "kind": kind,
        "instruction": options.instruction,
        "input": question,
        "output": output,
        "answers": answers,
        "text": render_prompt(options.prompt_template, options.instruction, question, output),
        "source_id": article["id"],
        "source_title": article["title"],
        "source_url": article["url"],
        **extra,
    }


def _lead(article: dict) -> str:
    sections = article.get("sections") or []
    return " ".join(sections[0]["paragraphs"]) if sections and not sections[0]["path"] else ""


def _title_slot(article: dict) -> tuple[str, str | None]:
    """The display title and the article its lead gives it ("O Brasil é..." -> "o"): `do Brasil`, `no Brasil`."""
    title = display_title(article["title"])
    return title, article_for(title, _lead(article))


def infobox_examples(article: dict, options: QAOptions) -> list[dict]:
    infobox = article.get("infobox") or {}
    templates = {_field_key(key): value for key, value in options.infobox_questions.items()}
    title = _title_slot(article)
    examples = []
    for key, value in (infobox.get("fields") or {}).items():
        template = templates.get(_field_key(key))
        if template is None or not value or len(value) > MAX_VALUE_CHARS:
            continue
        question, answer = (fill(part, title=title, value=(value, value_article(value))) for part in template)
        examples.append(_example(article, "infobox", len(examples), question, answer, [value], options, field=key))
    return examples


def _is_person(article: dict) -> bool:
    infobox = article.get("infobox") or {}
    fields = {_field_key(key) for key in infobox.get("fields", {})}
    return "biografia" in infobox.get("type", "").casefold() or bool({"nascimento_data", "morte_data"} & fields)


def lead_examples(article: dict, options: QAOptions) -> list[dict]:
    sections = article.get("sections") or []
    if not sections or sections[0]["path"]:
        return []
    answer = first_sentences(_prose(article, sections[0]), options.lead_sentences)
    if not answer:
        return []
    question = fill("Quem foi {title}?" if _is_person(article) else "O que é {title}?", title=_title_slot(article))
    return [_example(article, "lead", 0, question, answer, [], options)]


def _prose_paragraphs(article: dict, section: dict) -> list[str]:
    """A section's paragraphs less its tables and image captions (kept apart in the article's record too)."""
    apart = {table["text"] for table in article.get("tables") or []}
    apart.update(caption["text"] for caption in article.get("captions") or [])
    return [paragraph for paragraph in section["paragraphs"] if paragraph not in apart]


def _prose(article: dict, section: dict) -> str:
    return " ".join(_prose_paragraphs(article, section))


def section_examples(article: dict, options: QAOptions) -> list[dict]:
    title = _title_slot(article)
    examples = []
    for section in article.get("sections") or []:
        if not section["path"] or len(examples) >= options.max_sections_per_article:
            continue
        prose = _prose_paragraphs(article, section)
        answer = first_sentences(prose[0], options.section_sentences) if prose else ""
        if len(answer) < 40:
            continue
        heading = " > ".join(section["path"])
        question = fill("O que se sabe sobre «{heading}» no contexto de {title}?", heading=(heading, None),
                        title=title)
        examples.append(_example(article, "section", len(examples), question, answer, [], options, section=heading))
    return examples


def build_examples(articles: Iterable[dict], options: QAOptions | None = None) -> Iterator[dict]:
    options = options or qa_options()
    builders = {"infobox": infobox_examples, "lead": lead_examples, "section": section_examples}
    for article in articles:
        for kind in options.kinds:
            yield from builders[kind](article, options)


def pretraining_records(articles: Iterable[dict]) -> Iterator[dict]:
    for article in articles:
        yield {"text": f"{article['title']}\n\n{article['text']}", "source_id": article["id"],
               "source_title": article["title"]}
