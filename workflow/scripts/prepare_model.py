import os

# Compute nodes have no network: a hub model comes from the cache the download_model localrule filled.
if snakemake.params.spec["source"].startswith("hub:"):
    os.environ["HF_HUB_OFFLINE"] = "1"

from lhama.config.loading import ModelSpec  # noqa: E402
from lhama.models import prepare_model  # noqa: E402
from lhama.job import step  # noqa: E402

with step(snakemake):
    prepare_model(ModelSpec(**snakemake.params.spec), snakemake.output[0])
