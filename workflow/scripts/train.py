import os
import sys

from lhama.jsonl import write_json
from lhama.train import main, run_training, train_config_from_dict
from lhama.workflow import step

with step(snakemake):
    config = train_config_from_dict(snakemake.params.train)
    os.makedirs(snakemake.params.work_dir, exist_ok=True)
    config_file = os.path.join(snakemake.params.work_dir, "train_config.json")
    write_json(config_file, snakemake.params.train)
    argv = ["--model", snakemake.input.model, "--train", snakemake.input.train, "--eval", snakemake.input.eval,
            "--config", config_file, "--out", snakemake.output.adapter, "--work-dir", snakemake.params.work_dir,
            "--metrics", snakemake.output.metrics, "--model-name", snakemake.params.model_name]
    if config.launcher.type == "single":
        main(argv)
    elif status := run_training(config, argv):  # one process per GPU, started with srun on every node
        sys.exit(status)
