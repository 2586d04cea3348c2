from lhama.corpus import ExtractOptions, extract
from lhama.job import step

with step(snakemake):
    extract(
        snakemake.input.dump,
        snakemake.output[0],
        index_path=snakemake.input.get("index"),
        workers=snakemake.threads,
        options=ExtractOptions(
            min_chars=snakemake.params.min_chars,
            range_bytes=int(snakemake.params.range_mb * 2**20),
            articles_per_shard=snakemake.params.articles_per_shard,
        ),
    )
