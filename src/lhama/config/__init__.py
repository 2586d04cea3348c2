"""The workflow configuration: typed sections (`sections`), reading and checking (`loading`), the train.args check
with Hugging Face's parser (`sft`), and the generated schema and reference page (`schema`)."""
