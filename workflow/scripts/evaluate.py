from lhama.evaluate import evaluate_files
from lhama.workflow import step

with step(snakemake):
    evaluate_files(snakemake.input.answers, snakemake.output.metrics, snakemake.output.scores,
                   snakemake.output.comparisons,
                   retrieval=dict(zip(snakemake.params.eval_sets, snakemake.input.retrieval)),
                   perplexity=dict(zip(snakemake.params.models, snakemake.input.perplexity)),
                   **snakemake.params.evaluate)
