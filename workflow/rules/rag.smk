if config["rag"]["embedder"]["model"].startswith("hub:"):

    localrules:
        download_embedder,

    rule download_embedder:
        output:
            "results/rag/embedder.json",
        params:
            source=config["rag"]["embedder"]["model"],
        log:
            "logs/rag/download_embedder.log",
        benchmark:
            "results/benchmarks/rag/download_embedder.tsv"
        conda:
            "../../envs/rag.yaml"
        script:
            "../scripts/download_embedder.py"


rule chunk:
    input:
        embedder_inputs,
        articles="results/corpus/articles",
    output:
        "results/rag/shards/{shard}/chunks.jsonl",
    params:
        rag=config["rag"],
        num_shards=len(SHARDS),
    resources:
        mem_mb=rule_resources("chunk")["mem_mb"],
        runtime=rule_resources("chunk")["runtime"],
    log:
        "logs/rag/chunk/{shard}.log",
    benchmark:
        "results/benchmarks/rag/chunk/{shard}.tsv"
    conda:
        "../../envs/rag.yaml"
    script:
        "../scripts/chunk.py"


rule embed:
    input:
        embedder_inputs,
        chunks="results/rag/shards/{shard}/chunks.jsonl",
    output:
        "results/rag/shards/{shard}/embeddings.npy",
    params:
        rag=config["rag"],
    resources:
        mem_mb=rule_resources("embed")["mem_mb"],
        runtime=rule_resources("embed")["runtime"],
        gpu=rule_resources("embed").get("gpu", 0),
    log:
        "logs/rag/embed/{shard}.log",
    benchmark:
        "results/benchmarks/rag/embed/{shard}.tsv"
    conda:
        "../../envs/rag.yaml"
    script:
        "../scripts/embed.py"


rule index:
    input:
        embedder_inputs,
        chunks=expand("results/rag/shards/{shard}/chunks.jsonl", shard=SHARDS),
        embeddings=expand("results/rag/shards/{shard}/embeddings.npy", shard=SHARDS),
    output:
        directory("results/rag/index"),
    params:
        rag=config["rag"],
    resources:
        mem_mb=rule_resources("index")["mem_mb"],
        runtime=rule_resources("index")["runtime"],
    log:
        "logs/rag/index.log",
    benchmark:
        "results/benchmarks/rag/index.tsv"
    conda:
        "../../envs/rag.yaml"
    script:
        "../scripts/build_index.py"


rule retrieval_eval:
    input:
        embedder_inputs,
        index="results/rag/index",
        questions=eval_question_file,
    output:
        "results/rag/retrieval/{eval_set}.json",
    params:
        rag=config["rag"],
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    log:
        "logs/rag/retrieval_eval/{eval_set}.log",
    benchmark:
        "results/benchmarks/rag/retrieval_eval/{eval_set}.tsv"
    conda:
        "../../envs/rag.yaml"
    script:
        "../scripts/retrieval_eval.py"
