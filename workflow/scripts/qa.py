from lhama.corpus import iter_articles
from lhama.jsonl import write_jsonl
from lhama.qa import build_examples, qa_options_from_config
from lhama.workflow import step

with step(snakemake):
    options = qa_options_from_config({k: v for k, v in snakemake.params.qa.items() if k != "pretraining_text"})
    write_jsonl(snakemake.output.examples, build_examples(iter_articles(snakemake.input.articles), options))
