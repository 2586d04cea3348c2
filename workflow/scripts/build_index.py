from lhama.rag import build_index, rag_config_from_dict
from lhama.workflow import step

with step(snakemake):
    build_index(
        list(snakemake.input.chunks),
        list(snakemake.input.embeddings),
        snakemake.output[0],
        rag_config_from_dict(snakemake.params.rag),
    )
