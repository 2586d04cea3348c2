from pathlib import Path

from lhama.download import download_dump
from lhama.job import step

with step(snakemake):
    download_dump(
        snakemake.params.url,
        Path(snakemake.params.dest),
        mirror=snakemake.params.mirror,
        algorithm=snakemake.params.algorithm,
    )
