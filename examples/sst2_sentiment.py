"""SST-2 (GLUE) sentence sentiment; accuracy on a held-out part of train.

    .venv/bin/python examples/sst2_sentiment.py --data-dir $ATTNPRED_DATA
"""

from example_runner import run_example

if __name__ == "__main__":
    run_example(
        "sst2",
        __doc__.split("\n")[0],
        {
            "task": "sentiment",
            "model": "rnn",
            "train_path": "sst2/train.tsv.gz",
            "validation_fraction": 0.1,
            "text_column": "sentence",
            "label_column": "label",
            "label_names": ["negative", "positive"],
            "max_length": 64,
            "vocabulary_size": 12000,
            "epochs": 3,
            "batch_size": 64,
        },
        path_fields=("train_path",),
    )
