from lhama.jsonl import write_json
from lhama.qa import load_questions
from lhama.rag import evaluate_retrieval, load_index, rag_config_from_dict
from lhama.workflow import step

with step(snakemake):
    config = rag_config_from_dict(snakemake.params.rag)
    retriever = load_index(snakemake.input.index, config)
    result = evaluate_retrieval(load_questions(snakemake.input.questions), retriever, config.retriever.k)
    write_json(snakemake.output[0], {"name": snakemake.wildcards.eval_set, "file": snakemake.input.questions, **result})
