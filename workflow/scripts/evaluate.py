from lhama.config.sections import EvaluateConfig
from lhama.evaluate import evaluate_files
from lhama.job import section, step

with step(snakemake):
    config = section(snakemake.params.evaluate, EvaluateConfig, "evaluate")
    evaluate_files(
        snakemake.input.answers,
        snakemake.output.metrics,
        snakemake.output.scores,
        snakemake.output.comparisons,
        retrieval=dict(zip(snakemake.params.eval_sets, snakemake.input.retrieval)),
        perplexity=dict(zip(snakemake.params.models, snakemake.input.perplexity)),
        judgements=list(snakemake.input.judgements),
        resamples=config.resamples,
        seed=config.seed,
    )
