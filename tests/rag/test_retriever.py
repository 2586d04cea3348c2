"""lhama.rag.retriever: MMR, reciprocal rank fusion, and the retrieval scores of a question set."""

import dataclasses

import pytest

from lhama.config.sections import RetrievalSettings
from lhama.questions import Question
from lhama.rag.index import load_index
from lhama.rag.retriever import RetrievedChunk, evaluate_retrieval, reciprocal_rank_fusion


def test_mmr_returns_distinct_passages(rag_index, embedder):
    base = RetrievalSettings()
    mmr = dataclasses.replace(base, retriever=dataclasses.replace(base.retriever, hybrid=False, mmr=True, k=4))
    found = load_index(rag_index, mmr, embedder=embedder).retrieve("história do Brasil")
    assert len({chunk.chunk_id for chunk in found}) == 4


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = reciprocal_rank_fusion([[("a", 9), ("b", 8), ("c", 7)], [("c", 3), ("b", 2), ("d", 1)]], rrf_k=60)
    # c: 1/61 + 1/63 beats b: 1/62 + 1/63; both beat items found by one ranking only
    assert [item for item, _ in fused] == ["c", "b", "a", "d"]


def test_evaluate_retrieval_recall_and_mrr():
    class Fake:
        config = RetrievalSettings().retriever

        def retrieve(self, question, k):
            titles = {"q1": ["A", "B"], "q2": ["C", "A"], "q3": ["C", "D"]}[question]
            return [RetrievedChunk(r, 1.0, t, "", f"texto {t} 1888", "", r, f"{r}:0") for r, t in enumerate(titles, 1)]

    questions = [Question("1", "q1", ["1888"], None, "A"), Question("2", "q2", ["1999"], None, "A"),
                 Question("3", "q3", ["1888"], None, "A")]
    result = evaluate_retrieval(questions, Fake(), 2)
    assert result["recall_at_k"] == pytest.approx(2 / 3)
    assert result["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert result["answer_in_passages"] == pytest.approx(2 / 3)
    assert [row["gold_rank"] for row in result["rows"]] == [1, 2, None]
