from lhama.answer import write_answers
from lhama.config.loading import ModelSpec
from lhama.config.sections import GenerationConfig, PromptConfig, RetrievalSettings
from lhama.job import section, step

with step(snakemake):
    params = snakemake.params
    write_answers(
        snakemake.input.model,
        snakemake.input.questions,
        snakemake.output.answers,
        variant=snakemake.wildcards.variant,
        decoding=section(params.decoding, GenerationConfig, "generation"),
        prompt=section(params.prompt, PromptConfig, "prompt"),
        adapter_dir=snakemake.input.get("adapter"),
        index_dir=snakemake.input.get("index"),
        retrieval=section(params.retrieval, RetrievalSettings, "rag") if params.retrieval else None,
        model_name=snakemake.wildcards.model,
        questions_name=snakemake.wildcards.eval_set,
        spec=ModelSpec(**params.spec),
        progress=False,
        part=(int(snakemake.wildcards.part), int(snakemake.wildcards.parts)),
    )
