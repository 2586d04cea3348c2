import os

# Compute nodes have no network: a hub model comes from the cache the download_model localrule filled.
if snakemake.params.spec.kind == "hub":
    os.environ["HF_HUB_OFFLINE"] = "1"

from lhama.models import prepare_model  # noqa: E402
from lhama.workflow import step  # noqa: E402

with step(snakemake):
    prepare_model(snakemake.params.spec, snakemake.output[0])
