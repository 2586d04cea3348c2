if CONFIG.rag.embedder.model.startswith("hub:"):

    localrules:
        download_embedder,

    rule download_embedder:
        output:
            "results/rag/embedder.json",
        log:
            "logs/rag/download_embedder.log",
        benchmark:
            "results/benchmarks/rag/download_embedder.tsv"
        conda:
            "../../envs/rag.yaml"
        params:
            source=CONFIG.rag.embedder.model,
        script:
            "../scripts/download_embedder.py"


rule chunk:
    input:
        embedder_inputs,
        articles="results/corpus/articles",
    output:
        "results/rag/shards/{shard}/chunks.jsonl",
    log:
        "logs/rag/chunk/{shard}.log",
    benchmark:
        "results/benchmarks/rag/chunk/{shard}.tsv"
    conda:
        "../../envs/rag.yaml"
    resources:
        mem_mb=planned_cpu("chunk", "mem_mb", lambda wildcards: wildcards.shard),
        runtime=planned_cpu("chunk", "runtime", lambda wildcards: wildcards.shard),
    params:
        embedder=CONFIG.rag.embedder.model,  # its tokenizer measures the chunks
        chunker=to_dict(CONFIG.rag.chunker),
        shards=CONFIG.rag.shards,
    script:
        "../scripts/chunk.py"


rule embed:
    input:
        embedder_inputs,
        chunks="results/rag/shards/{shard}/chunks.jsonl",
    output:
        "results/rag/shards/{shard}/embeddings.npy",
    log:
        "logs/rag/embed/{shard}.log",
    benchmark:
        "results/benchmarks/rag/embed/{shard}.tsv"
    conda:
        "../../envs/rag.yaml"
    resources:
        mem_mb=rule_resources("embed")["mem_mb"],
        runtime=planned_runtime("embed", lambda wildcards: wildcards.shard),
        gpu=rule_resources("embed").get("gpu", 0),
    params:
        embedder=to_dict(CONFIG.rag.embedder.for_passages()),
    script:
        "../scripts/embed.py"


rule index:
    input:
        embedder_inputs,
        chunks=expand("results/rag/shards/{shard}/chunks.jsonl", shard=SHARDS),
        embeddings=expand("results/rag/shards/{shard}/embeddings.npy", shard=SHARDS),
    output:
        directory("results/rag/index"),
    log:
        "logs/rag/index.log",
    benchmark:
        "results/benchmarks/rag/index.tsv"
    conda:
        "../../envs/rag.yaml"
    resources:
        mem_mb=planned_cpu("index", "mem_mb"),
        runtime=planned_cpu("index", "runtime"),
    params:
        embedder=CONFIG.rag.embedder.identity(),
        chunker=to_dict(CONFIG.rag.chunker),
        index=CONFIG.rag.index.build_settings(),
    script:
        "../scripts/build_index.py"


rule raft_data:
    input:
        embedder_inputs,
        index="results/rag/index",
        train="results/qa/train.jsonl",
        test="results/qa/test.jsonl",
    output:
        train="results/qa/raft/train.jsonl",
        test="results/qa/raft/test.jsonl",
    log:
        "logs/rag/raft_data.log",
    benchmark:
        "results/benchmarks/rag/raft_data.tsv"
    # feeds the raft training, which runs at the training's priority
    priority: 10
    conda:
        "../../envs/rag.yaml"
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    params:
        raft=CONFIG.raft.data_settings(),
        rows=lw.raft_rows(CONFIG),
        retrieval=RETRIEVAL,
    script:
        "../scripts/raft_data.py"


rule retrieval_eval:
    input:
        embedder_inputs,
        index="results/rag/index",
        questions=eval_question_file,
    output:
        "results/rag/retrieval/{eval_set}.json",
    log:
        "logs/rag/retrieval_eval/{eval_set}.log",
    benchmark:
        "results/benchmarks/rag/retrieval_eval/{eval_set}.tsv"
    conda:
        "../../envs/rag.yaml"
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    params:
        retrieval=RETRIEVAL,
    script:
        "../scripts/retrieval_eval.py"
