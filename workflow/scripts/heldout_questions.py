from lhama.heldout import write_heldout_questions
from lhama.job import step

with step(snakemake):
    write_heldout_questions(snakemake.input.test, snakemake.output.questions, snakemake.output.sample,
                            **snakemake.params.heldout)
