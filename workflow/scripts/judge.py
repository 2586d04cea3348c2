from lhama.job import step
from lhama.judge import write_judgements

with step(snakemake):
    write_judgements(snakemake.input.model, [snakemake.input.answers], snakemake.output[0],
                     index_dir=snakemake.input.get("index"))
