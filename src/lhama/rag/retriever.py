"""Top-k passages for a question: dense (FAISS through LangChain), optionally fused with BM25 (the index folder's
bm25s index, memory-mapped) by reciprocal rank fusion and re-ranked by MMR; and the retrieval scores of a question
set (recall@k and MRR of the gold article)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lhama.config.sections import RetrieverConfig
from lhama.text import answers_match, tokens


@dataclass(frozen=True)
class RetrievedChunk:
    rank: int
    score: float
    title: str
    section: str
    text: str
    url: str
    article_id: int
    chunk_id: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


class Retriever:
    """Top-k passages: dense (FAISS), optionally fused with BM25 by reciprocal rank fusion, optionally MMR.
    `load_bm25` returns the index folder's saved BM25 index (`lhama.rag.index.load_bm25`, given by `load_index`), for
    hybrid retrieval: called at the first question, so a dense-only retriever never opens it."""

    def __init__(self, store, chunks: list[dict], embedder, config: RetrieverConfig, manifest: dict,
                 load_bm25: Callable[[], Any] | None = None) -> None:
        self.store, self.chunks, self.embedder, self.config, self.manifest = store, chunks, embedder, config, manifest
        self._load_bm25 = load_bm25
        self._bm25 = None
        self._position = {chunk["chunk_id"]: position for position, chunk in enumerate(chunks)}

    def _dense(self, question: str, count: int) -> list[tuple[str, float]]:
        vector = self.embedder.embed_query(question).tolist()
        if self.config.mmr:
            found = self.store.max_marginal_relevance_search_with_score_by_vector(
                vector, k=count, fetch_k=max(self.config.mmr_fetch_k, count), lambda_mult=self.config.mmr_lambda)
        else:
            found = self.store.similarity_search_with_score_by_vector(vector, k=count)
        return [(document.metadata["chunk_id"], float(score)) for document, score in found]

    def _sparse(self, question: str, count: int) -> list[tuple[str, float]]:
        if self._bm25 is None:
            if self._load_bm25 is None:
                raise ValueError("hybrid retrieval reads the index folder's BM25 index: build the Retriever with "
                                 "lhama.rag.index.load_index")
            self._bm25 = self._load_bm25()
        scores = bm25_scores(self._bm25, tokens(question))
        count = min(count, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]  # O(n), not a full sort per query
        best = top[np.lexsort((top, -scores[top]))]  # by score, ties by corpus order
        return [(self.chunks[position]["chunk_id"], float(scores[position])) for position in best]

    def retrieve(self, question: str, k: int | None = None) -> list[RetrievedChunk]:
        k = k or self.config.k
        if self.config.hybrid:
            depth = max(k * 4, self.config.mmr_fetch_k)
            ranked = reciprocal_rank_fusion([self._dense(question, depth), self._sparse(question, depth)],
                                            self.config.rrf_k)[:k]
        else:
            ranked = self._dense(question, k)
        results = []
        for rank, (chunk_id, score) in enumerate(ranked, start=1):
            chunk = self.chunks[self._position[chunk_id]]
            metadata = chunk["metadata"]
            results.append(RetrievedChunk(rank, score, metadata["title"], metadata["section"], chunk["text"],
                                          metadata["url"], metadata["article_id"], chunk_id))
        return results


def bm25_scores(bm25, terms: list[str]) -> np.ndarray:
    """Every chunk's BM25 score for the query terms (a repeated term counts again, one the corpus lacks adds
    nothing), on BM25Okapi's scale: bm25s's Robertson term weight leaves out BM25Okapi's constant factor k1 + 1."""
    ids = bm25.get_tokens_ids(terms)
    if not ids:
        return np.zeros(bm25.scores["num_docs"])
    return bm25.get_scores_from_ids(ids).astype(np.float64) * (bm25.k1 + 1)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[tuple[str, float]]], rrf_k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked lists: score(d) = sum over lists of 1 / (rrf_k + rank of d); ties keep first-seen order."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (item, _) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])


def evaluate_retrieval(questions, retriever: Retriever, k: int) -> dict:
    """recall@k and MRR of the gold article (the question's `source`), and answers present in the passages."""
    rows = []
    for question in questions:
        found = retriever.retrieve(question.question, k)
        gold_rank = next((chunk.rank for chunk in found if question.source and chunk.title == question.source), None)
        rows.append({
            "id": question.id,
            "question": question.question,
            "source": question.source,
            "gold_rank": gold_rank,
            "answer_in_passages": bool(question.answers) and answers_match(question.answers,
                                                                           "\n".join(c.text for c in found)),
            "top_title": found[0].title if found else None,
            "top_section": found[0].section if found else None,
            "titles": [chunk.title for chunk in found],
        })
    with_source = [row for row in rows if row["source"]]
    with_answers = [row for row, question in zip(rows, questions) if question.answers]
    return {
        "n": len(rows),
        "k": k,
        "hybrid": retriever.config.hybrid,
        "recall_at_k": sum(row["gold_rank"] is not None for row in with_source) / len(with_source) if with_source else None,
        "mrr": sum(1 / row["gold_rank"] for row in with_source if row["gold_rank"]) / len(with_source) if with_source else None,
        "answer_in_passages": (sum(row["answer_in_passages"] for row in with_answers) / len(with_answers)
                               if with_answers else None),
        "rows": rows,
    }
