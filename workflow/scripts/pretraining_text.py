from lhama.corpus import iter_articles
from lhama.jsonl import write_jsonl
from lhama.qa import pretraining_records
from lhama.workflow import step

with step(snakemake):
    write_jsonl(snakemake.output[0], pretraining_records(iter_articles(snakemake.input.articles)))
