import pytest

from training_data import write_data


@pytest.fixture()
def data(tmp_path):
    """A training and an evaluation JSONL of capital questions."""
    return write_data(tmp_path)
