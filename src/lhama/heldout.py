"""The held-out question set, bounded: at most `evaluate.heldout_questions` questions of the test split, drawn
stratified by example kind (infobox, lead, section) with a seed, so that answering stays flat as the corpus grows
(the test split of the full ptwiki holds about 480,000 examples) and every kind keeps its share.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

from lhama.errors import LhamaError
from lhama.files import read_jsonl, write_json, write_jsonl


def stratified_quota(counts: dict[str, int], total: int) -> dict[str, int]:
    """How many of each stratum a sample of `total` takes: proportional, remainders to the largest fractions (ties
    by name), never more than a stratum has."""
    size = sum(counts.values())
    if total >= size:
        return dict(counts)
    exact = {kind: total * count / size for kind, count in counts.items()}
    quota = {kind: int(share) for kind, share in exact.items()}
    by_remainder = sorted(counts, key=lambda kind: (quota[kind] - exact[kind], kind))
    for kind in by_remainder[: total - sum(quota.values())]:
        quota[kind] += 1
    return quota


def sample_rows(kinds: list[str], max_questions: int | None, seed: int) -> list[int]:
    """Rows of at most `max_questions` examples, stratified by kind, in file order; every row for None."""
    if max_questions is None or len(kinds) <= max_questions:
        return list(range(len(kinds)))
    rows_by_kind: dict[str, list[int]] = defaultdict(list)
    for row, kind in enumerate(kinds):
        rows_by_kind[kind].append(row)
    quota = stratified_quota({kind: len(rows) for kind, rows in rows_by_kind.items()}, max_questions)
    rng = random.Random(seed)
    chosen: set[int] = set()
    for kind in sorted(rows_by_kind):
        chosen.update(rng.sample(rows_by_kind[kind], quota[kind]))
    return sorted(chosen)


def sample_summary(kinds: list[str], rows: list[int], *, max_questions: int | None, seed: int) -> dict:
    """What the report says of the sample: n of N, per kind, and how it was drawn."""
    population = Counter(kinds)
    drawn = Counter(kinds[row] for row in rows)
    return {
        "population": len(kinds), "n": len(rows), "max_questions": max_questions, "seed": seed,
        "method": ("every test-split example" if len(rows) == len(kinds) else
                   f"stratified by kind, proportional, seed {seed}"),
        "by_kind": {kind: {"population": population[kind], "n": drawn[kind]} for kind in sorted(population)},
    }


def write_heldout_questions(test_path: str | Path, out: str | Path, summary_path: str | Path, *,
                            max_questions: int | None, seed: int) -> dict:
    """The held-out question file (question-file format) and its sample summary, from the test split, read twice
    (kinds, then the sampled rows) so that memory holds the sample, not the split."""
    from lhama.questions import example_to_question

    kinds = [example.get("kind", "") for example in read_jsonl(test_path)]
    if not kinds:
        raise LhamaError(f"{test_path}: the test split is empty; no held-out question to ask")
    rows = sample_rows(kinds, max_questions, seed)
    wanted = set(rows)
    sampled = [example for row, example in enumerate(read_jsonl(test_path)) if row in wanted]
    summary = sample_summary(kinds, rows, max_questions=max_questions, seed=seed)
    summary["ids"] = [example["id"] for example in sampled]
    write_jsonl(out, (example_to_question(example).to_json() for example in sampled))
    write_json(summary_path, summary)
    return summary
