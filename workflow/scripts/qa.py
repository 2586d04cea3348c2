from lhama.config.sections import PromptConfig, QAConfig
from lhama.corpus import iter_articles
from lhama.files import write_jsonl
from lhama.qa import build_examples, qa_options
from lhama.job import section, step

with step(snakemake):
    options = qa_options(
        section(snakemake.params.qa, QAConfig, "qa"),
        section(snakemake.params.prompt, PromptConfig, "prompt"),
    )
    write_jsonl(snakemake.output.examples, build_examples(iter_articles(snakemake.input.articles), options))
