from lhama.files import write_json
from lhama.questions import load_questions, question_coverage
from lhama.job import step

with step(snakemake):
    questions = load_questions(snakemake.input.questions)
    write_json(
        snakemake.output[0],
        {
            "name": snakemake.wildcards.qset,
            "file": str(snakemake.input.questions),
            "questions": [question.to_json() for question in questions],
            "coverage": question_coverage(questions, snakemake.input.articles),
        },
    )
