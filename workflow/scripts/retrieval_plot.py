from lhama.jsonl import read_json
from lhama.report import plot_recall_curves
from lhama.workflow import step

with step(snakemake):
    plot_recall_curves([read_json(path) for path in snakemake.input], snakemake.output[0])
