from lhama.config.sections import RetrievalSettings
from lhama.files import write_json
from lhama.questions import load_questions
from lhama.rag.index import load_index
from lhama.rag.retriever import evaluate_retrieval
from lhama.job import section, step

with step(snakemake):
    settings = section(snakemake.params.retrieval, RetrievalSettings, "rag")
    retriever = load_index(snakemake.input.index, settings)
    result = evaluate_retrieval(load_questions(snakemake.input.questions), retriever, settings.retriever.k)
    write_json(snakemake.output[0], {"name": snakemake.wildcards.eval_set, "file": snakemake.input.questions, **result})
