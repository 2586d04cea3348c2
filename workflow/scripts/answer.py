from lhama.answer import write_answers
from lhama.generate import decoding_from_dict
from lhama.rag import rag_config_from_dict
from lhama.workflow import step

with step(snakemake):
    write_answers(snakemake.input.model, snakemake.input.questions, snakemake.output.answers,
                  variant=snakemake.wildcards.variant, decoding=decoding_from_dict(snakemake.params.decoding),
                  adapter_dir=snakemake.input.get("adapter"), index_dir=snakemake.input.get("index"),
                  k=snakemake.params.k, model_name=snakemake.wildcards.model,
                  questions_name=snakemake.wildcards.eval_set, spec=snakemake.params.spec,
                  system=snakemake.params.system, template=snakemake.params.template, progress=False,
                  rag_config=rag_config_from_dict(snakemake.params.rag))
