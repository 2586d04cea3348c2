from lhama.config.sections import ChunkerConfig, EmbedderConfig, IndexConfig
from lhama.rag.index import build_index
from lhama.job import section, step

with step(snakemake):
    params = snakemake.params
    build_index(
        list(snakemake.input.chunks),
        list(snakemake.input.embeddings),
        snakemake.output[0],
        embedder=section(params.embedder, EmbedderConfig, "rag.embedder"),
        chunker=section(params.chunker, ChunkerConfig, "rag.chunker"),
        index=section(params.index, IndexConfig, "rag.index"),
    )
