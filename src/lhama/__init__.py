"""lhama: what fine-tuning a LLaMA-family model on Portuguese Wikipedia buys, over the base model and over RAG."""

__version__ = "0.1.0"
