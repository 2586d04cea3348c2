"""lhama.rag.retriever: MMR, BM25 (the saved bm25s index: BM25Okapi's scores and ranking, memory-mapped),
reciprocal rank fusion, and the retrieval scores of a question set."""

import dataclasses
import math

import numpy as np
import pytest

from lhama.config.sections import RetrievalSettings
from lhama.questions import Question
from lhama.rag.index import load_bm25, load_index, write_bm25
from lhama.rag.retriever import RetrievedChunk, bm25_scores, evaluate_retrieval, reciprocal_rank_fusion
from lhama.text import tokens

K1, B = 1.5, 0.75
# after lhama.text.tokens (articles dropped, accents folded): 4, 2, 2, 2 and 3 terms; "azul" in 3 of the 5 texts,
# every other term in at most 2
TINY = ["O gato preto e o gato", "Um cão preto", "Pássaro azul", "Peixe azul", "Cavalo azul veloz"]


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


def okapi(corpus: list[list[str]], query: list[str]) -> list[float]:
    """rank-bm25's BM25Okapi, written out for terms in at most half of the documents (where its idf is not floored):
    sum over query terms of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))."""
    count, average = len(corpus), sum(map(len, corpus)) / len(corpus)
    scores = []
    for document in corpus:
        score = 0.0
        for term in query:
            df, tf = sum(term in other for other in corpus), document.count(term)
            idf = math.log((count - df + 0.5) / (df + 0.5)) if df else 0.0
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(document) / average))
        scores.append(score)
    return scores


@pytest.fixture(scope="module")
def tiny_bm25(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "bm25"
    write_bm25(iter(TINY), folder)
    return load_bm25(folder, len(TINY))


@pytest.mark.parametrize("query", ["gato preto", "gato gato", "cão", "veloz peixe", "zebra", ""])
def test_saved_bm25_gives_bm25okapi_scores(tiny_bm25, query):
    corpus = [tokens(text) for text in TINY]
    assert bm25_scores(tiny_bm25, tokens(query)) == pytest.approx(okapi(corpus, tokens(query)), rel=1e-6, abs=1e-9)


def test_saved_bm25_ranks_by_hand(tiny_bm25):
    assert [tokens(text) for text in TINY][:2] == [["gato", "preto", "e", "gato"], ["cao", "preto"]]
    scores = bm25_scores(tiny_bm25, tokens("gato preto"))
    # "gato" twice and "preto" once in the first text, "preto" once in the second, nothing in the others
    assert scores[0] > scores[1] > 0 and not scores[2:].any()
    # a term found in more than half of the texts adds nothing (BM25Okapi floors its idf instead)
    assert not bm25_scores(tiny_bm25, tokens("azul")).any()


def test_saved_bm25_is_memory_mapped(tiny_bm25, rag_index, embedder):
    assert all(isinstance(tiny_bm25.scores[name], np.memmap) for name in ("data", "indices", "indptr"))
    retriever = load_index(rag_index, RetrievalSettings(), embedder=embedder)
    retriever.retrieve("Princesa Isabel")
    assert all(isinstance(retriever._bm25.scores[name], np.memmap) for name in ("data", "indices", "indptr"))


@pytest.mark.parametrize(("question", "gold"), [
    ("Quando a escravidão foi abolida pela Lei Áurea?", "Lei Áurea"),
    ("capital federal inaugurada em 1960", "Brasília"),
    ("maior rio do mundo em volume de água", "Rio Amazonas"),
    ("Inconfidência Mineira enforcado", "Tiradentes"),
    ("produto de exportação no século XIX", "Café"),
])
def test_bm25_puts_the_gold_lead_then_its_legado_first(rag_index, embedder, question, gold):
    """As rank-bm25 did on the five articles: the two chunks holding the article's lead sentence first, the short
    lead chunk ahead of the longer Legado chunk (same term counts, longer chunk)."""
    retriever = load_index(rag_index, RetrievalSettings(), embedder=embedder)
    ranked = retriever._sparse(question, 6)
    chunks = [retriever.chunks[retriever._position[chunk_id]] for chunk_id, _ in ranked]
    assert [(c["metadata"]["title"], c["metadata"]["section"]) for c in chunks[:2]] == [(gold, ""), (gold, "Legado")]
    assert ranked[0][1] > ranked[1][1] > 0


def test_bm25_ties_keep_corpus_order(rag_index, embedder):
    retriever = load_index(rag_index, RetrievalSettings(), embedder=embedder)
    ranked = retriever._sparse("Inconfidência Mineira enforcado", 8)
    positions = [retriever._position[chunk_id] for chunk_id, _ in ranked]
    # two Tiradentes chunks score, nothing else does: the rest follow in corpus order
    assert all(score == 0 for _, score in ranked[2:]) and positions[2:] == sorted(positions[2:])
    assert positions[2:] == [position for position in range(len(retriever.chunks)) if position not in positions[:2]][:6]
