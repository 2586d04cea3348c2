from lhama.rag import embed_shard, rag_config_from_dict
from lhama.workflow import step

with step(snakemake):
    embed_shard(snakemake.input.chunks, snakemake.output[0], rag_config_from_dict(snakemake.params.rag))
