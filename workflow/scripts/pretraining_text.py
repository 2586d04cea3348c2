from lhama.corpus import iter_articles
from lhama.files import write_jsonl
from lhama.qa import pretraining_records
from lhama.job import step

with step(snakemake):
    write_jsonl(snakemake.output[0], pretraining_records(iter_articles(snakemake.input.articles)))
