from lhama.files import write_json
from lhama.models import download_hub_model
from lhama.job import step

with step(snakemake):
    write_json(snakemake.output[0], download_hub_model(snakemake.params.source, revision=snakemake.params.revision))
