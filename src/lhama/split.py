"""Train/test split of the instruction data: the study's `particiona.py`, plus a split by article.

`by="pair"` is exactly what the study did (scikit-learn `train_test_split(test_size=0.1, random_state=42)` over QA
pairs), which lets questions about the same article land on both sides; `by="article"` keeps every article on one
side (`GroupShuffleSplit`), so no test question has a training question from its article.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from tqdm.auto import tqdm

from lhama.config.sections import SplitConfig
from lhama.errors import InputFileError, LhamaError
from lhama.files import write_json, write_jsonl

SplitBy = Literal["pair", "article"]


@dataclass(frozen=True)
class SplitReport:
    by: str
    seed: int
    test_size: float
    train: int
    test: int
    train_articles: int
    test_articles: int
    test_with_train_article: int

    def to_json(self) -> dict:
        return dict(self.__dict__)


def split_rows(groups: Sequence, *, by: SplitBy = SplitConfig.by, test_size: float = SplitConfig.test_size,
               seed: int = SplitConfig.seed) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the train and test sides, in the order they are written, from each row's article alone: the
    same rows scikit-learn picks from the examples themselves (its splitters index rows; `pair` keeps
    `train_test_split`'s shuffled order, `article` the file's order)."""
    count = len(groups)
    if count < 2:
        raise LhamaError(f"cannot split {count} example(s): need at least 2")
    if not 0 < test_size < 1:
        raise LhamaError(f"test_size must be between 0 and 1, got {test_size}")
    if by == "pair":
        train, test = train_test_split(np.arange(count), test_size=test_size, random_state=seed)
        return train, test
    if by == "article":
        if len(set(groups)) < 2:
            raise LhamaError("cannot split by article: all examples come from one article")
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train, test = next(splitter.split(np.zeros(count), groups=np.asarray(groups)))
        return np.sort(train), np.sort(test)
    raise LhamaError(f"split 'by' must be 'pair' or 'article', got {by!r}")


def split_report(groups: Sequence, train: np.ndarray, test: np.ndarray, *, by: str, seed: int,
                 test_size: float) -> SplitReport:
    train_articles = {groups[row] for row in train}
    test_articles = {groups[row] for row in test}
    return SplitReport(by=by, seed=seed, test_size=test_size, train=len(train), test=len(test),
                       train_articles=len(train_articles), test_articles=len(test_articles),
                       test_with_train_article=sum(groups[row] in train_articles for row in test))


def split_examples(examples: list[dict], *, by: SplitBy = SplitConfig.by, test_size: float = SplitConfig.test_size,
                   seed: int = SplitConfig.seed) -> tuple[list[dict], list[dict], SplitReport]:
    """The split of examples in memory (what `write_split` streams from a file)."""
    groups = [example["source_id"] for example in examples]
    train, test = split_rows(groups, by=by, test_size=test_size, seed=seed)
    report = split_report(groups, train, test, by=by, seed=seed, test_size=test_size)
    return [examples[row] for row in train], [examples[row] for row in test], report


def index_lines(path: str | Path) -> tuple[array, list]:
    """One pass over a JSONL file: each record's byte offset and its article (`source_id`), nothing else kept."""
    offsets, groups = array("q"), []
    with open(path, "rb") as lines:
        offset = 0
        for number, line in enumerate(tqdm(lines, desc="split: indexing", unit=" examples", mininterval=5,
                                           disable=None), start=1):
            if line.strip():
                try:
                    groups.append(json.loads(line)["source_id"])
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise InputFileError(path, f"not an instruction example with a source_id ({error})",
                                         where=f"line {number}") from None
                offsets.append(offset)
            offset += len(line)
    return offsets, groups


def read_rows(path: str | Path, offsets: array, rows: np.ndarray) -> Iterator[dict]:
    """The records at `rows` (row numbers into `offsets`), in that order, read by seeking."""
    with open(path, "rb") as lines:
        for row in rows:
            lines.seek(offsets[row])
            yield json.loads(lines.readline())


def write_split(examples_path: str | Path, out_dir: str | Path, config: SplitConfig | None = None, *,
                train_path: str | Path | None = None, test_path: str | Path | None = None,
                questions_path: str | Path | None = None, report_path: str | Path | None = None) -> SplitReport:
    """Split an examples JSONL into train.jsonl, test.jsonl, the held-out question file test_questions.jsonl and the
    leakage report split.json (each path can be given apart), streaming: memory holds an offset and an article id
    per example, not the examples (about 0.1 GB for ptwiki's 12 million, against tens of GB loaded whole)."""
    from lhama.questions import example_to_question

    config = config or SplitConfig()
    out_dir = Path(out_dir)
    offsets, groups = index_lines(examples_path)
    train, test = split_rows(groups, by=config.by, test_size=config.test_size, seed=config.seed)
    report = split_report(groups, train, test, by=config.by, seed=config.seed, test_size=config.test_size)
    write_jsonl(train_path or out_dir / "train.jsonl", read_rows(examples_path, offsets, train))
    write_jsonl(test_path or out_dir / "test.jsonl", read_rows(examples_path, offsets, test))
    write_jsonl(questions_path or out_dir / "test_questions.jsonl",
                (example_to_question(example).to_json() for example in read_rows(examples_path, offsets, test)))
    write_json(report_path or out_dir / "split.json", report.to_json())
    return report
