"""Top-k passages for a question: dense (FAISS through LangChain), optionally fused with BM25 by reciprocal rank
fusion and re-ranked by MMR; and the retrieval scores of a question set (recall@k and MRR of the gold article)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

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
    """Top-k passages: dense (FAISS), optionally fused with BM25 by reciprocal rank fusion, optionally MMR."""

    def __init__(self, store, chunks: list[dict], embedder, config: RetrieverConfig, manifest: dict) -> None:
        self.store, self.chunks, self.embedder, self.config, self.manifest = store, chunks, embedder, config, manifest
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
            from rank_bm25 import BM25Okapi

            self._bm25 = BM25Okapi([tokens(chunk["text"]) for chunk in self.chunks])
        scores = self._bm25.get_scores(tokens(question))
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
