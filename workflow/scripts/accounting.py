import logging
from pathlib import Path

from lhama.accounting import write_accounting
from lhama.job import step

with step(snakemake):
    note = write_accounting(Path.cwd(), Path(snakemake.output.table), Path(snakemake.output.summary))
    logging.getLogger("lhama").info("%s", note or f"accounting written to {snakemake.output.table}")
