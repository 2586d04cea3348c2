"""A question set answered by several jobs: which share of the set each job answers, and the set's answers and
summary merged from its parts (the `merge_answers` localrule, which needs none of the answering stack)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lhama.errors import ConfigError
from lhama.files import read_json, read_jsonl, write_json, write_jsonl


def part_of(items: Sequence, part: int, parts: int) -> Sequence:
    """Answer job `part` (0-based) of `parts`'s share of a question set: contiguous blocks of ceil(n / parts), so the
    parts, concatenated in order, are the set in its own order, whatever its size."""
    if not 0 <= part < parts:
        raise ConfigError("part", f"answer part {part} of {parts} does not exist")
    size = -(-len(items) // parts)
    return items[part * size:(part + 1) * size]


def merge_summaries(summaries: Sequence[dict]) -> dict:
    """One question set's summary from its parts' (in part order): totals summed, throughput recomputed, each part's
    count and environment kept under `parts`."""
    answered = [summary for summary in summaries if summary["n"]] or list(summaries[:1])
    merged = dict(answered[0])
    for key in ("n", "batches", "prompt_tokens", "new_tokens", "generation_seconds"):
        merged[key] = sum(summary[key] for summary in summaries)
    for key in ("retrieval_seconds", "index_load_seconds", "model_load_seconds"):
        values = [summary[key] for summary in summaries if summary.get(key) is not None]
        merged[key] = sum(values) if values else None
    seconds = merged["generation_seconds"]
    merged["tokens_per_second"] = merged["new_tokens"] / seconds if seconds else None
    merged["parts"] = [{"n": summary["n"], "environment": summary.get("environment")} for summary in summaries]
    return merged


def merge_answers(part_files: Sequence[str | Path], out: str | Path) -> dict:
    """The answers of a question set from its parts' files, in part order, and the merged summary beside them."""
    rows = [row for path in part_files for row in read_jsonl(path)]
    summary = merge_summaries([read_json(summary_path(path)) for path in part_files])
    write_jsonl(out, rows)
    write_json(summary_path(out), summary)
    return summary


def summary_path(out: str | Path) -> Path:
    """`results/answers/m/v/paper.jsonl` -> `results/answers/m/v/paper.summary.json`."""
    out = Path(out)
    return out.with_name(f"{out.stem}.summary.json")
