"""TREC question classification (6 coarse classes); held-out part of train.

    .venv/bin/python examples/trec_questions.py --data-dir $ATTNPRED_DATA
"""

from example_runner import run_example

if __name__ == "__main__":
    run_example(
        "trec",
        __doc__.split("\n")[0],
        {
            "task": "classification",
            "model": "rnn",
            "train_path": "trec/train.csv",
            "validation_fraction": 0.1,
            "text_column": "text",
            "label_column": "coarse_label",
            "max_length": 40,
            "vocabulary_size": 4000,
            "epochs": 10,
            "batch_size": 32,
        },
        path_fields=("train_path",),
    )
