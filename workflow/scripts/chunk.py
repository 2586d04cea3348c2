from lhama.config.sections import ChunkerConfig
from lhama.rag.chunks import chunk_shard
from lhama.job import section, step

with step(snakemake):
    chunk_shard(
        snakemake.input.articles,
        snakemake.output[0],
        section(snakemake.params.chunker, ChunkerConfig, "rag.chunker"),
        embedder_model=snakemake.params.embedder,
        shard=int(snakemake.wildcards.shard),
        num_shards=snakemake.params.shards,
    )
