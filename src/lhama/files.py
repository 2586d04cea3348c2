"""The files the stages exchange: JSON, JSON Lines and TSV, every one written atomically (a temporary sibling renamed
into place), so a failed run never leaves a half-written output."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lhama.errors import InputFileError


@contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary sibling for writing; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(out: str | Path) -> Iterator[Path]:
    """A temporary sibling folder of `out`, renamed to `out` if the block succeeds and removed otherwise (an older
    `out` is replaced only then)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    remove_path(tmp)
    tmp.mkdir()
    try:
        yield tmp
        replace_dir(tmp, out)
    finally:
        remove_path(tmp)


def replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished folder `tmp` to `out`; an existing `out` is swapped out first and removed after."""
    if out.exists() or out.is_symlink():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        remove_path(old)
        os.replace(out, old)
        os.replace(tmp, out)
        remove_path(old)
    else:
        os.replace(tmp, out)


def remove_path(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    count = 0
    with atomic_open(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_jsonl(path: str | Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def numbered_records(path: str | Path, error: type[Exception] | None = None) -> Iterator[tuple[int, object]]:
    """(line number, parsed value) for each non-blank line of a JSONL file; a line that is not JSON raises `error`
    (`InputFileError` by default, or a subclass) naming the file and line."""
    error = error or InputFileError
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as problem:
                raise error(Path(path), f"invalid JSON: {problem.msg}", where=f"line {number}") from None


def write_json(path: str | Path, value: object) -> None:
    with atomic_open(path) as handle:
        handle.write(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path) -> object:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------- TSV

NOTE_PREFIX = "# "


def format_cell(value) -> str:
    """A TSV cell: empty for None (and NaN), booleans as 0/1, floats in their shortest exact form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return "" if value != value else repr(value)
    return str(value).replace("\t", " ").replace("\n", " ")


def write_tsv(path: str | Path, rows: Iterable[dict], columns: Sequence[str], *, note: str | None = None) -> None:
    """A header of `columns`, one line per row, and an optional `# note` line (why a table is empty)."""
    with atomic_open(path) as handle:
        handle.write("\t".join(columns) + "\n")
        for row in rows:
            handle.write("\t".join(format_cell(row.get(column)) for column in columns) + "\n")
        if note:
            handle.write(NOTE_PREFIX + note.replace("\n", " ") + "\n")


def _typed(text: str):
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def read_tsv(path: str | Path, *, typed: bool = True) -> list[dict]:
    """The rows of a TSV written by `write_tsv`: numbers as int/float and empty cells as None (`typed`), or the
    cells as written."""
    return _read_tsv(path, typed)[0]


def tsv_note(path: str | Path) -> str | None:
    """The `# note` line of a TSV written by `write_tsv`, if any."""
    return _read_tsv(path, False)[1]


def _read_tsv(path: str | Path, typed: bool) -> tuple[list[dict], str | None]:
    import csv

    rows, note = [], None
    with open(path, encoding="utf-8", newline="") as handle:
        lines = [line for line in handle.read().splitlines() if line.strip()]
    for line in lines[1:]:
        if line.startswith(NOTE_PREFIX):
            note = line[len(NOTE_PREFIX):]
    body = [line for line in lines if not line.startswith(NOTE_PREFIX)]
    for row in csv.DictReader(body, delimiter="\t", quoting=csv.QUOTE_NONE):
        rows.append({key: _typed(cell) if typed else cell for key, cell in row.items()})
    return rows, note
