"""Multi30k German to English translation (test2016 as the test set).

    .venv/bin/python examples/multi30k_translation.py --data-dir $ATTNPRED_DATA
"""

from example_runner import run_example

if __name__ == "__main__":
    run_example(
        "multi30k-de-en",
        __doc__.split("\n")[0],
        {
            "task": "translation",
            "model": "transformer",
            "preset": "base",
            "train_path": ["multi30k/train.de.gz", "multi30k/train.en.gz"],
            "validation_path": ["multi30k/val.de.gz", "multi30k/val.en.gz"],
            "test_path": [
                "multi30k/test_2016_flickr.de.gz",
                "multi30k/test_2016_flickr.en.gz",
            ],
            "max_length": 48,
            "vocabulary_size": 8000,
            "epochs": 10,
            "batch_size": 64,
            "learning_rate": "transformer",
            "label_smoothing": 0.1,
        },
        path_fields=("train_path", "validation_path", "test_path"),
    )
