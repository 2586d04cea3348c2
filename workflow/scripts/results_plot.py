from lhama.plots import plot_accuracy
from lhama.job import step

with step(snakemake):
    plot_accuracy(snakemake.input[0], snakemake.output[0], snakemake.params.eval_sets)
