from lhama.config.sections import EmbedderConfig
from lhama.rag.chunks import embed_shard
from lhama.job import section, step

with step(snakemake):
    embed_shard(
        snakemake.input.chunks,
        snakemake.output[0],
        section(snakemake.params.embedder, EmbedderConfig, "rag.embedder"),
    )
