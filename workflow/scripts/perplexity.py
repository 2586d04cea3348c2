from lhama.config.sections import PerplexityConfig
from lhama.perplexity import heldout_perplexity
from lhama.job import section, step

with step(snakemake):
    heldout_perplexity(
        snakemake.input.model,
        snakemake.input.articles,
        snakemake.input.test,
        snakemake.output[0],
        adapter_dir=snakemake.input.adapter,
        trust_remote_code=snakemake.params.trust_remote_code,
        config=section(snakemake.params.perplexity, PerplexityConfig, "perplexity"),
    )
