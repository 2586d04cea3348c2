from lhama.config.sections import SplitConfig
from lhama.split import write_split
from lhama.job import section, step

with step(snakemake):
    output = snakemake.output
    write_split(
        snakemake.input.examples,
        ".",
        section(snakemake.params.split, SplitConfig, "split"),
        train_path=output.train,
        test_path=output.test,
        questions_path=output.test_questions,
        report_path=output.report,
    )
