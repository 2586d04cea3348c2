from lhama.jsonl import read_jsonl, write_json, write_jsonl
from lhama.qa import example_to_question
from lhama.split import split_examples
from lhama.workflow import step

with step(snakemake):
    train, test, report = split_examples(
        list(read_jsonl(snakemake.input.examples)),
        by=snakemake.params.by,
        test_size=snakemake.params.test_size,
        seed=snakemake.params.seed,
    )
    write_jsonl(snakemake.output.train, train)
    write_jsonl(snakemake.output.test, test)
    write_jsonl(snakemake.output.test_questions, (example_to_question(example).to_json() for example in test))
    write_json(snakemake.output.report, report.to_json())
