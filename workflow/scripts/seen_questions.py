from lhama.job import step
from lhama.seen import write_seen_questions

with step(snakemake):
    write_seen_questions(
        snakemake.input.train,
        snakemake.input.articles,
        snakemake.output.questions,
        snakemake.output.sample,
        **snakemake.params.seen,
        trained=snakemake.params.trained,
    )
