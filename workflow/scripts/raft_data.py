from lhama.config.sections import RaftConfig, RetrievalSettings
from lhama.job import section, step
from lhama.raft import write_raft_data

with step(snakemake):
    write_raft_data(
        snakemake.input.index,
        (snakemake.input.train, snakemake.output.train),
        (snakemake.input.test, snakemake.output.test),
        section(snakemake.params.raft, RaftConfig, "raft"),
        section(snakemake.params.retrieval, RetrievalSettings, "rag"),
        **snakemake.params.rows,
    )
