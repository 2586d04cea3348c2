from lhama.jsonl import read_json
from lhama.train import plot_losses
from lhama.workflow import step

with step(snakemake):
    plot_losses(read_json(snakemake.input[0]), snakemake.output[0])
