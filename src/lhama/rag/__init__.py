"""Retrieval-augmented generation, in LangChain's shape, without the study's confounds.

Loader (articles -> one `Document` per section) and splitter measured in the embedder's tokens, each chunk prefixed
with its title and section (`chunks`) -> sentence-transformers embeddings through `langchain-huggingface`, with
query/passage prefixes for e5/bge models (`embedder`) -> a FAISS index (exact, HNSW or IVF) saved with FAISS's own
writer, a plain JSONL docstore and a BM25 index of the same chunks (bm25s, sparse arrays in .npy files), never
pickled (`index`) -> a retriever with top-k (not the study's k=1), optional BM25 fusion (the saved BM25 index,
memory-mapped, so no job holds every chunk's terms in memory) and MMR (`retriever`). The passages reach the model
through `lhama.prompts`.

Large corpora are chunked and embedded in shards (one job each) and merged into one index; the merge orders chunks
by corpus position, so the index does not depend on the number of shards.
"""
