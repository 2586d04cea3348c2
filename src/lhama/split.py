"""Train/test split of the instruction data: the study's `particiona.py`, plus a split by article.

`by="pair"` is exactly what the study did (scikit-learn `train_test_split(test_size=0.1, random_state=42)` over QA
pairs), which lets questions about the same article land on both sides; `by="article"` keeps every article on one
side (`GroupShuffleSplit`), so no test question has a training question from its article.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sklearn.model_selection import GroupShuffleSplit, train_test_split

from lhama.errors import LhamaError

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


def split_examples(examples: list[dict], *, by: SplitBy = "pair", test_size: float = 0.1,
                   seed: int = 42) -> tuple[list[dict], list[dict], SplitReport]:
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
