"""The training rows a run takes: the first `take` rows of a seeded permutation of a JSONL file's rows.

A run of `max_steps` steps of B rows reads steps x B rows once each (`TrainConfig.trained_rows`). On the full
ptwiki the training split holds some 11 million rows against 2,000 taken, so the train job reads only those (by
seeking to them, after one byte scan for line offsets) instead of tokenizing the whole split, and the seen-facts set
(`lhama.seen`) asks about facts of exactly these rows. The first N rows of one permutation hold the first M < N,
so the rows every model trained on are those of the model that took fewest, when the seeds agree.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lhama.errors import InputFileError


def row_offsets(path: str | Path) -> tuple[array, array]:
    """One byte scan of a JSONL file: the byte offset and line number of each non-blank line (nothing parsed)."""
    offsets, lines = array("q"), array("q")
    with open(path, "rb") as handle:
        offset = 0
        for number, line in enumerate(tqdm(handle, desc=f"rows of {Path(path).name}", unit=" rows", mininterval=5,
                                           disable=None), start=1):
            if line.strip():
                offsets.append(offset)
                lines.append(number)
            offset += len(line)
    return offsets, lines


def chosen_rows(count: int, take: int | None, seed: int) -> np.ndarray:
    """Row numbers (0-based, ascending) of the first `take` rows of a seeded permutation of `count`; every row when
    `take` is None or not smaller than `count`."""
    if take is None or take >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).permutation(count)[:take])


def rows_in_common(count: int, draws: list[tuple[int | None, int]]) -> np.ndarray:
    """The rows every (take, seed) draw holds, ascending."""
    common = np.arange(count)
    for take, seed in draws:
        common = np.intersect1d(common, chosen_rows(count, take, seed), assume_unique=True)
    return common


def read_chosen(path: str | Path, rows: np.ndarray, offsets: array, lines: array) -> Iterator[tuple[int, object]]:
    """(line number, parsed value) of the rows `rows`, in that order, read by seeking."""
    with open(path, "rb") as handle:
        for row in rows:
            handle.seek(offsets[row])
            try:
                yield lines[row], json.loads(handle.readline())
            except json.JSONDecodeError as problem:
                raise InputFileError(Path(path), f"invalid JSON: {problem.msg}", where=f"line {lines[row]}") from None


def sample_records(path: str | Path, take: int | None, seed: int) -> tuple[list[tuple[int, object]], int]:
    """(line number, value) of the rows a run takes (`chosen_rows`), and how many rows the file holds."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file does not exist" if not path.exists() else "not a file")
    offsets, lines = row_offsets(path)
    return list(read_chosen(path, chosen_rows(len(offsets), take, seed), offsets, lines)), len(offsets)
