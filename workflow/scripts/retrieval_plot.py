from lhama.files import read_json
from lhama.plots import plot_recall_curves
from lhama.job import step

with step(snakemake):
    plot_recall_curves([read_json(path) for path in snakemake.input], snakemake.output[0])
