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
from dataclasses import dataclass, field
from pathlib import Path

from lhama.errors import QuestionFileError
from lhama.jsonl import numbered_records
from lhama.portuguese import article_for, fill, value_article

# The study's prompt ("### Instruction / ### Question / ### Answer"), in Portuguese.
DEFAULT_PROMPT_TEMPLATE = "### Instrução:\n{instruction}\n\n### Entrada:\n{input}\n\n### Resposta:\n{output}"
DEFAULT_INSTRUCTION = "Responda à pergunta sobre o Brasil em português, de forma correta e concisa."

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
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    instruction: str = DEFAULT_INSTRUCTION
    infobox_questions: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(DEFAULT_INFOBOX_QUESTIONS))
    kinds: tuple[str, ...] = KINDS
    lead_sentences: int = 2
    section_sentences: int = 2
    max_sections_per_article: int = 3


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
    return template.format(instruction=instruction, input=question, output=output)


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


def build_examples(articles: Iterable[dict], options: QAOptions = QAOptions()) -> Iterator[dict]:
    builders = {"infobox": infobox_examples, "lead": lead_examples, "section": section_examples}
    for article in articles:
        for kind in options.kinds:
            yield from builders[kind](article, options)


def pretraining_records(articles: Iterable[dict]) -> Iterator[dict]:
    for article in articles:
        yield {"text": f"{article['title']}\n\n{article['text']}", "source_id": article["id"],
               "source_title": article["title"]}


# ---------------------------------------------------------------------------------------------------- question files


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: list[str | list[str]]
    reference: str | None = None
    source: str | None = None

    def to_json(self) -> dict:
        record = {"id": self.id, "question": self.question, "answers": self.answers}
        if self.reference is not None:
            record["reference"] = self.reference
        if self.source is not None:
            record["source"] = self.source
        return record


def _check_answers(value: object) -> bool:
    if not isinstance(value, list):
        return False
    for answer in value:
        if isinstance(answer, str):
            if not answer.strip():
                return False
        elif not (isinstance(answer, list) and answer and all(isinstance(a, str) and a.strip() for a in answer)):
            return False
    return True


def parse_question(record: object, path: Path, line: int) -> Question:
    where = f"line {line}"
    if not isinstance(record, dict):
        raise QuestionFileError(path, "expected a JSON object", where=where)
    for key in ("id", "question"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise QuestionFileError(path, f"'{key}' must be a non-empty string", where=where)
    if "answers" not in record or not _check_answers(record["answers"]):
        raise QuestionFileError(
            path, "'answers' must be a list of non-empty strings or of non-empty lists of strings", where=where
        )
    if not record["answers"] and not record.get("reference"):
        raise QuestionFileError(path, "a question needs 'answers' or a 'reference'", where=where)
    for key in ("reference", "source"):
        if key in record and not isinstance(record[key], str):
            raise QuestionFileError(path, f"'{key}' must be a string", where=where)
    return Question(record["id"], record["question"], record["answers"], record.get("reference"), record.get("source"))


def load_questions(path: str | Path) -> list[Question]:
    """Read and validate a JSONL question file; errors name the file and line."""
    path = Path(path)
    if not path.exists():
        raise QuestionFileError(path, "question file not found")
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, record in numbered_records(path, QuestionFileError):
        question = parse_question(record, path, number)
        if question.id in seen:
            raise QuestionFileError(path, f"duplicate id {question.id!r} (first on line {seen[question.id]})",
                                    where=f"line {number}")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionFileError(path, "no questions in file")
    return questions


def example_to_question(example: dict) -> Question:
    """A held-out instruction example as a question (short answers where the kind has them)."""
    return Question(example["id"], example["input"], list(example["answers"]), example["output"],
                    example["source_title"])


def qa_options_from_config(section: dict | None) -> QAOptions:
    """QAOptions from the workflow config's `qa` section (keys as in config/config.schema.yaml)."""
    section = dict(section or {})
    questions = section.pop("infobox_questions", None)
    mapping = DEFAULT_INFOBOX_QUESTIONS if questions is None else {
        key: (value["question"], value["answer"]) for key, value in questions.items()
    }
    known = {"prompt_template", "instruction", "kinds", "lead_sentences", "section_sentences",
             "max_sections_per_article"}
    values = {key: section[key] for key in known if key in section}
    if "kinds" in values:
        values["kinds"] = tuple(values["kinds"])
    return QAOptions(infobox_questions=dict(mapping), **values)
