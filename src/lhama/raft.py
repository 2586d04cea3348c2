"""Training data for RAG-aware fine-tuning (RAFT, Zhang et al. 2024): every instruction example asked with passages
in its prompt, the way the `raft` variant is asked at answer time.

For each example the passages are the gold passage (the chunk of the example's source article that holds the answer,
or the article's first chunk) among distractors (the retriever's best chunks of other articles), in a seeded random
order; for a configured share of examples the gold article is left out entirely and the target becomes the prompt's
"the passages do not contain the answer" sentence, so the model learns to say so instead of copying a distractor.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from lhama.config.sections import RaftConfig, RetrievalSettings
from lhama.files import read_jsonl, write_jsonl
from lhama.prompts import NOT_FOUND_PT
from lhama.text import answers_match
from lhama.training_rows import sample_records

DISTRACTOR_DEPTH = 4  # retrieve this many times the passages wanted, so distractors remain after the gold is set aside


def gold_passage(chunks: Sequence[dict], example: dict) -> dict | None:
    """The chunk of the source article that holds the example's answer (its short answers, else the answer
    sentence's opening words), else its first chunk; None when the index holds none of the article."""
    if not chunks:
        return None
    wanted = list(example.get("answers") or []) or [" ".join(example["output"].split()[:6])]
    return next((chunk for chunk in chunks if answers_match(wanted, chunk["text"])), chunks[0])


def raft_example(example: dict, retriever, by_article: dict, *, passages: int, leave_out: bool,
                 rng: random.Random) -> dict:
    """`example` with its `passages` (texts) and, when `leave_out`, the not-found answer as target."""
    source = example.get("source_id")
    found = retriever.retrieve(example["input"], passages * DISTRACTOR_DEPTH)
    distractors = [chunk.text for chunk in found if chunk.article_id != source]
    gold = None if leave_out else gold_passage(by_article.get(source, []), example)
    if gold is None:
        chosen, output = distractors[:passages], NOT_FOUND_PT
    else:
        chosen, output = [gold["text"], *distractors[:passages - 1]], example["output"]
        rng.shuffle(chosen)
    return {**example, "output": output, "passages": chosen,
            "raft": {"gold": gold is not None, "gold_chunk": gold["chunk_id"] if gold else None}}


def left_out(count: int, share: float, rng: random.Random) -> set[int]:
    """Which of `count` examples lose their gold passage: share x count of them rounded half up, drawn with `rng`.
    A coin per example would leave the realized share to chance where few rows are trained (4 of the 6 rows of a
    6-step demo run were left out with a coin of 0.2, and that adapter learned to refuse every question)."""
    return set(rng.sample(range(count), math.floor(share * count + 0.5)))


def raft_examples(examples: Iterable[dict], retriever, config: RaftConfig, passages: int) -> Iterator[dict]:
    """The RAFT version of each example (the rows a run takes: already in memory, `lhama.training_rows`)."""
    rng = random.Random(config.seed)
    examples = list(examples)
    leave = left_out(len(examples), config.without_answer, rng)
    by_article: dict = {}
    for chunk in retriever.chunks:
        by_article.setdefault(chunk["metadata"]["article_id"], []).append(chunk)
    for number, example in enumerate(examples):
        yield raft_example(example, retriever, by_article, passages=passages, leave_out=number in leave, rng=rng)


def write_raft_data(index_dir: str | Path, train: tuple[str | Path, str | Path], test: tuple[str | Path, str | Path],
                    config: RaftConfig, retrieval: RetrievalSettings | None = None, *, train_rows: int | None = None,
                    eval_rows: int | None = None) -> dict[str, int]:
    """RAFT versions of the training rows the raft trainings take (`train_rows` of a permutation seeded with
    `config.seed`, `lhama.training_rows`; None: all) and of the first `eval_rows` test rows they evaluate on, each an
    (input JSONL, output JSONL) pair, with the retriever the answers use; counts."""
    from lhama.rag.index import load_index

    retriever = load_index(index_dir, retrieval)
    passages = config.passages or retriever.config.k
    train_examples = (row for _, row in sample_records(train[0], train_rows, config.seed)[0])
    test_examples = itertools.islice(read_jsonl(test[0]), eval_rows)
    return {str(out): write_jsonl(out, raft_examples(examples, retriever, config, passages))
            for out, examples in ((train[1], train_examples), (test[1], test_examples))}
