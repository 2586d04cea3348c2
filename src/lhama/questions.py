"""Question files (JSONL: id, question, answers, optional reference and source): reading and validating them,
held-out examples as questions, and whether the corpus can answer a question set at all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lhama.errors import QuestionFileError
from lhama.files import numbered_records
from lhama.text import matches_normalized, normalize_pt


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


def question_coverage(questions: list[Question], articles_dir: str | Path) -> dict:
    """For each question: is its answer in the text or infobox of its `source` article, and in how many articles.

    This says whether the corpus can answer a question set at all, before any model is involved.
    """
    from lhama.corpus import iter_articles

    by_question = {question.id: {"id": question.id, "source": question.source, "source_found": False,
                                 "answer_in_source": False, "articles_with_answer": 0} for question in questions}
    for article in iter_articles(articles_dir):
        infobox = article.get("infobox") or {}
        haystack = normalize_pt(" ".join([article["title"], article["text"], *infobox.get("fields", {}).values()]))
        for question in questions:
            row = by_question[question.id]
            found = matches_normalized(question.answers, haystack)
            row["articles_with_answer"] += int(found)
            if question.source is not None and question.source == article["title"]:
                row["source_found"] = True
                row["answer_in_source"] = found
    rows = list(by_question.values())
    return {
        "rows": rows,
        "with_source": sum(row["source"] is not None for row in rows),
        "source_found": sum(row["source_found"] for row in rows),
        "answer_in_source": sum(row["answer_in_source"] for row in rows),
        "answer_in_corpus": sum(row["articles_with_answer"] > 0 for row in rows),
    }
