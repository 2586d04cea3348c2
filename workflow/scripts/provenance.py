from lhama.corpus import read_manifest
from lhama.files import write_json
from lhama.provenance import collect
from lhama.job import step

with step(snakemake):
    write_json(snakemake.output[0], collect(read_manifest(snakemake.input.articles)))
