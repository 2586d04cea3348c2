from lhama.corpus import read_manifest
from lhama.jsonl import write_json
from lhama.provenance import collect
from lhama.workflow import step

with step(snakemake):
    write_json(snakemake.output[0], collect(dict(snakemake.params.config), read_manifest(snakemake.input.articles)))
