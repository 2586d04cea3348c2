"""Train/test split of the instruction data: the study's `particiona.py`, plus a split by article.

`by="pair"` is exactly what the study did (scikit-learn `train_test_split(test_size=0.1, random_state=42)` over QA
pairs), which lets questions about the same article land on both sides; `by="article"` keeps every article on one
side (`GroupShuffleSplit`), so no test question has a training question from its article.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sklearn.model_selection import GroupShuffleSplit, train_test_split

from lhama.config.sections import SplitConfig
from lhama.errors import LhamaError
from lhama.files import read_jsonl, write_json, write_jsonl

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


def split_examples(examples: list[dict], *, by: SplitBy = SplitConfig.by, test_size: float = SplitConfig.test_size,
                   seed: int = SplitConfig.seed) -> tuple[list[dict], list[dict], SplitReport]:
    if len(examples) < 2:
        raise LhamaError(f"cannot split {len(examples)} example(s): need at least 2")
    if not 0 < test_size < 1:
        raise LhamaError(f"test_size must be between 0 and 1, got {test_size}")
    if by == "pair":
        train, test = train_test_split(examples, test_size=test_size, random_state=seed)
    elif by == "article":
        groups = [example["source_id"] for example in examples]
        if len(set(groups)) < 2:
            raise LhamaError("cannot split by article: all examples come from one article")
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train_rows, test_rows = next(splitter.split(examples, groups=groups))
        train = [examples[row] for row in sorted(train_rows)]
        test = [examples[row] for row in sorted(test_rows)]
    else:
        raise LhamaError(f"split 'by' must be 'pair' or 'article', got {by!r}")
    train_articles = {example["source_id"] for example in train}
    test_articles = {example["source_id"] for example in test}
    report = SplitReport(
        by=by, seed=seed, test_size=test_size, train=len(train), test=len(test),
        train_articles=len(train_articles), test_articles=len(test_articles),
        test_with_train_article=sum(example["source_id"] in train_articles for example in test),
    )
    return list(train), list(test), report


def write_split(examples_path: str | Path, out_dir: str | Path, config: SplitConfig | None = None, *,
                train_path: str | Path | None = None, test_path: str | Path | None = None,
                questions_path: str | Path | None = None, report_path: str | Path | None = None) -> SplitReport:
    """Split an examples JSONL into train.jsonl, test.jsonl, the held-out question file test_questions.jsonl and the
    leakage report split.json (each path can be given apart)."""
    from lhama.questions import example_to_question

    config = config or SplitConfig()
    out_dir = Path(out_dir)
    train, test, report = split_examples(list(read_jsonl(examples_path)), by=config.by, test_size=config.test_size,
                                         seed=config.seed)
    write_jsonl(train_path or out_dir / "train.jsonl", train)
    write_jsonl(test_path or out_dir / "test.jsonl", test)
    write_jsonl(questions_path or out_dir / "test_questions.jsonl",
                (example_to_question(example).to_json() for example in test))
    write_json(report_path or out_dir / "split.json", report.to_json())
    return report
