"""lhama.raft: each example gets the gold passage among distractors, or, for a seeded share, none and the
not-found target."""

import pytest

from lhama.config.sections import RaftConfig
from lhama.prompts import NOT_FOUND_PT, training_record
from lhama.raft import gold_passage, raft_examples
from lhama.rag.retriever import RetrievedChunk


class FakeRetriever:
    """Three articles of two chunks; every question retrieves the other articles' chunks first."""

    def __init__(self):
        self.chunks = [{"chunk_id": f"{article}:{n}", "text": f"Artigo {article} parte {n}" +
                        (" fundada em 1711" if (article, n) == (1, 1) else ""),
                        "metadata": {"article_id": article}} for article in (1, 2, 3) for n in (0, 1)]
        self.config = type("Config", (), {"k": 3})()

    def retrieve(self, question, k):
        return [RetrievedChunk(rank, 1.0, f"A{chunk['metadata']['article_id']}", "", chunk["text"], "u",
                               chunk["metadata"]["article_id"], chunk["chunk_id"])
                for rank, chunk in enumerate(reversed(self.chunks), start=1)][:k]


EXAMPLE = {"instruction": "Responda.", "input": "Quando foi fundada?", "output": "Foi fundada em 1711.",
           "answers": ["1711"], "source_id": 1}


def test_gold_passage_is_the_chunk_holding_the_answer():
    chunks = FakeRetriever().chunks[:2]
    assert gold_passage(chunks, EXAMPLE)["chunk_id"] == "1:1"
    assert gold_passage(chunks, {**EXAMPLE, "answers": ["1999"]})["chunk_id"] == "1:0"
    assert gold_passage([], EXAMPLE) is None


def test_examples_carry_the_gold_among_distractors_or_say_not_found():
    rows = list(raft_examples([EXAMPLE] * 200, FakeRetriever(), RaftConfig(without_answer=0.25, seed=7), 3))
    with_gold = [row for row in rows if row["raft"]["gold"]]
    without = [row for row in rows if not row["raft"]["gold"]]
    assert len(without) == 50  # exactly the configured share
    for row in with_gold:
        assert len(row["passages"]) == 3 and "Artigo 1 parte 1 fundada em 1711" in row["passages"]
        assert row["output"] == EXAMPLE["output"] and row["raft"]["gold_chunk"] == "1:1"
    for row in without:
        assert row["output"] == NOT_FOUND_PT and not any(text.startswith("Artigo 1 ") for text in row["passages"])
    assert len({tuple(row["passages"]) for row in with_gold}) > 1  # the gold is not always first
    again = list(raft_examples([EXAMPLE] * 200, FakeRetriever(), RaftConfig(without_answer=0.25, seed=7), 3))
    assert again == rows


@pytest.mark.parametrize(("count", "share", "expected"), [(6, 0.2, 1), (2, 0.2, 0), (10, 0.25, 3), (5, 0.5, 3)])
def test_the_share_without_the_gold_is_exact_for_few_rows(count, share, expected):
    rows = list(raft_examples([EXAMPLE] * count, FakeRetriever(), RaftConfig(without_answer=share, seed=42), 3))
    assert sum(1 for row in rows if not row["raft"]["gold"]) == expected


def test_training_prompt_carries_the_passages_as_the_variant_is_asked():
    [row] = raft_examples([EXAMPLE], FakeRetriever(), RaftConfig(without_answer=0.0), 3)
    record = training_record(row, template="{instruction}\n{input}\n", chat=True)
    user = record["prompt"][-1]["content"]
    assert user.endswith(EXAMPLE["input"]) and "[1] " in user and "[3] " in user
