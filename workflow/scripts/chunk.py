from lhama.rag import chunk_shard, rag_config_from_dict
from lhama.workflow import step

with step(snakemake):
    chunk_shard(
        snakemake.input.articles,
        snakemake.output[0],
        rag_config_from_dict(snakemake.params.rag),
        shard=int(snakemake.wildcards.shard),
        num_shards=snakemake.params.num_shards,
    )
