"""IMDB movie reviews: binary sentiment with a Transformer encoder classifier.

    .venv/bin/python examples/imdb_sentiment.py --data-dir $ATTNPRED_DATA
"""

from example_runner import run_example

if __name__ == "__main__":
    run_example(
        "imdb",
        __doc__.split("\n")[0],
        {
            "task": "sentiment",
            "model": "transformer",
            "train_path": "imdb/train.csv.gz",
            "test_path": "imdb/test.csv.gz",
            "text_column": "review",
            "label_column": "label",
            "label_names": ["negative", "positive"],
            "max_length": 512,
            "vocabulary_size": 16000,
            "epochs": 4,
            "batch_size": 32,
            "bucket_boundaries": "auto",
        },
        path_fields=("train_path", "test_path"),
    )
