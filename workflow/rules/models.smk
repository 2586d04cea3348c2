if hub_models():

    localrules:
        download_model,

    rule download_model:
        output:
            "results/models/{model}/hub.json",
        params:
            source=lambda wildcards: MODELS[wildcards.model].spec.source,
            revision=lambda wildcards: MODELS[wildcards.model].spec.revision,
        log:
            "logs/models/download/{model}.log",
        benchmark:
            "results/benchmarks/models/download/{model}.tsv"
        conda:
            "../../envs/train.yaml"
        script:
            "../scripts/download_model.py"


rule prepare_model:
    input:
        model_download,
    output:
        directory("results/models/{model}/base"),
    params:
        spec=lambda wildcards: MODELS[wildcards.model].spec,
    resources:
        mem_mb=lambda wildcards: model_resources("prepare_model", wildcards)["mem_mb"],
        runtime=lambda wildcards: model_resources("prepare_model", wildcards)["runtime"],
    log:
        "logs/models/prepare/{model}.log",
    benchmark:
        "results/benchmarks/models/prepare/{model}.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/prepare_model.py"
