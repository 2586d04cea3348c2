"""Training data: instruction rows read and checked, rendered as TRL prompt/completion records by
`lhama.prompts.training_record` (so a tuned model is asked at answer time the way it was trained), and cut to
`max_length`."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

from lhama.errors import InputFileError
from lhama.files import numbered_records
from lhama.prompts import training_record
from lhama.training_rows import sample_records


def read_rows(path: str | Path, *, take: int | None = None, seed: int = 0, first: int | None = None) -> list[dict]:
    """Instruction rows (instruction, input, output) of a JSONL file; a clear error names the line. `take`: only the
    rows a run of that many rows trains on (`lhama.training_rows`, with `seed`), read by seeking; `first`: only the
    first rows, the file read no further."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file does not exist" if not path.exists() else "not a file")
    if take is not None:
        records = sample_records(path, take, seed)[0]
    else:
        records = itertools.islice(numbered_records(path), first)
    rows = []
    for number, row in records:
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("input", "output")) \
                or not isinstance(row.get("instruction", ""), str) or not row["output"].strip():
            raise InputFileError(path, "expected an object with string fields instruction, input and a "
                                       "non-empty output", where=f"line {number}")
        rows.append(row)
    if not rows:
        raise InputFileError(path, "no examples")
    return rows


def build_dataset(rows: Sequence[Mapping[str, str]], *, chat: bool, template: str):
    """A `datasets.Dataset` of prompt/completion records (TRL tokenizes it and masks the prompt)."""
    from datasets import Dataset

    return Dataset.from_list([training_record(row, template=template, chat=chat) for row in rows])


def truncate_dataset(dataset, max_length: int):
    """Cut tokenized examples (input_ids, labels) to `max_length` and drop the ones left with no answer token:
    TRL refuses `max_length` with padding-free batches without packing, so lhama enforces it itself."""
    def cut(example):
        return {"input_ids": example["input_ids"][:max_length], "labels": example["labels"][:max_length]}

    dataset = dataset.map(cut)
    return dataset.filter(lambda example: any(label != -100 for label in example["labels"]))
