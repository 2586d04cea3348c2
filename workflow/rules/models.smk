if hub_models():

    localrules:
        download_model,

    rule download_model:
        output:
            "results/models/{model}/hub.json",
        log:
            "logs/models/download/{model}.log",
        benchmark:
            "results/benchmarks/models/download/{model}.tsv"
        conda:
            "../../envs/train.yaml"
        params:
            source=lambda wildcards: MODELS[wildcards.model].spec.source,
            revision=lambda wildcards: MODELS[wildcards.model].spec.revision,
        script:
            "../scripts/download_model.py"


rule prepare_model:
    input:
        model_download,
    output:
        directory("results/models/{model}/base"),
    log:
        "logs/models/prepare/{model}.log",
    benchmark:
        "results/benchmarks/models/prepare/{model}.tsv"
    conda:
        "../../envs/train.yaml"
    resources:
        mem_mb=model_resources("prepare_model", "mem_mb"),
        runtime=model_resources("prepare_model", "runtime"),
    params:
        spec=model_spec,
    script:
        "../scripts/prepare_model.py"
