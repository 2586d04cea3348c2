import os
import sys

from lhama.cli.train import main
from lhama.config.sections import TrainConfig
from lhama.files import write_json
from lhama.train.launch import run_training
from lhama.job import section, step

with step(snakemake):
    params = snakemake.params
    config = section(params.train, TrainConfig, "train")
    os.makedirs(params.work_dir, exist_ok=True)
    # the job's whole configuration, in the form `lhama train --config` reads (each launched process reads it)
    config_file = os.path.join(params.work_dir, "train_config.json")
    write_json(config_file, {"train": params.train, "prompt": {"template": params.template}})
    argv = ["--model", snakemake.input.model, "--train", snakemake.input.train, "--eval", snakemake.input.eval,
            "--config", config_file, "--out", snakemake.output.adapter, "--work-dir", params.work_dir,
            "--metrics", snakemake.output.metrics, "--model-name", snakemake.wildcards.model]
    if params.spec["trust_remote_code"]:
        argv.append("--trust-remote-code")
    status = main(argv) if config.launcher.type == "single" else run_training(config, argv)
    if status:  # one process per GPU, started with srun on every node, or a failed or interrupted run
        sys.exit(status)
