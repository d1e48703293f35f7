"""English to Spanish translation with a Transformer (Tatoeba pairs).

    .venv/bin/python examples/spanish_translation.py --data-dir $ATTNPRED_DATA
"""

from example_runner import run_example

if __name__ == "__main__":
    run_example(
        "spa-eng",
        __doc__.split("\n")[0],
        {
            "task": "translation",
            "model": "transformer",
            "preset": "small",
            "train_path": "spa-eng/train.tsv.gz",
            "test_path": "spa-eng/valid.tsv.gz",
            "validation_fraction": 0.02,
            "max_length": 32,
            "vocabulary_size": 8000,
            "epochs": 10,
            "batch_size": 64,
            "learning_rate": "transformer",
            "label_smoothing": 0.1,
        },
        path_fields=("train_path", "test_path"),
    )
