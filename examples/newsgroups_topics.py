"""20 Newsgroups (bydate): topic classification into 20 groups.

    .venv/bin/python examples/newsgroups_topics.py --data-dir $ATTNPRED_DATA
"""

from example_runner import run_example

if __name__ == "__main__":
    run_example(
        "newsgroups",
        __doc__.split("\n")[0],
        {
            "task": "classification",
            "model": "transformer",
            "train_path": "20newsgroups/train.csv.gz",
            "test_path": "20newsgroups/test.csv.gz",
            "text_column": "text",
            # Group names sort in the same order as the numeric labels.
            "label_column": "label_name",
            "max_length": 512,
            "vocabulary_size": 20000,
            "epochs": 10,
            "batch_size": 32,
            "bucket_boundaries": "auto",
        },
        path_fields=("train_path", "test_path"),
    )
