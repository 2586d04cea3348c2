from lhama.answer_parts import merge_answers
from lhama.job import step

with step(snakemake):
    merge_answers(snakemake.input, snakemake.output.answers)
