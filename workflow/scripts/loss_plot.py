from lhama.files import read_json
from lhama.plots import plot_losses
from lhama.job import step

with step(snakemake):
    plot_losses(read_json(snakemake.input[0]), snakemake.output[0])
