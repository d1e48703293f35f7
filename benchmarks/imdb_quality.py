"""IMDB test accuracy of the attention classifiers, beside a tf-idf SVM.

Three steps, because the GPU machine has JAX but no TensorFlow:

    # 1. here (TensorFlow Text): learn the vocabulary, write token ids
    .venv/bin/python benchmarks/imdb_quality.py prepare --out .device_data/imdb.npz
    # 2. on the GPU machine (Keras on JAX): train and test the models
    KERAS_BACKEND=jax python3 benchmarks/imdb_quality.py train \\
        --ids .device_data/imdb.npz --out benchmarks/results/imdb_quality.json
    # 3. here: the baseline (needs scikit-learn)
    .venv/bin/python benchmarks/imdb_quality.py baseline

Data comes from $ATTNPRED_DATA/imdb (or --data-dir). The models are trained
from scratch on the 25,000 training reviews, with 10% held out to pick the
best epoch; the figure is accuracy on the 25,000 test reviews.
"""

import argparse
import json
import os
import re
import time

import numpy as np

LABELS = ["negative", "positive"]


def default_data_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get(
        "ATTNPRED_DATA", os.path.join(here, "..", "..", "shared", "data")
    )


def read_reviews(data_dir, part):
    from keras_attnpred.data import LabeledTexts

    reviews = LabeledTexts.from_csv(
        os.path.join(data_dir, "imdb", f"{part}.csv.gz"),
        text_column="review",
        label_column="label",
        label_names=LABELS,
    )
    # The reviews keep the HTML line breaks of the original pages.
    texts = [re.sub(r"<br\s*/?>", " ", text) for text in reviews.texts]
    return texts, np.asarray(reviews.labels)


def prepare(args):
    from keras_attnpred.text import SubwordTokenizer

    train_texts, train_labels = read_reviews(args.data_dir, "train")
    test_texts, test_labels = read_reviews(args.data_dir, "test")
    rng = np.random.default_rng(0)
    sample = rng.choice(len(train_texts), args.vocabulary_sample, replace=False)
    tokenizer = SubwordTokenizer.train(
        [train_texts[i] for i in sample], args.vocabulary_size
    )

    def ids(texts):
        ragged = tokenizer.tokenize(texts)
        dense = ragged[:, : args.max_length].to_tensor(
            shape=(len(texts), args.max_length)
        )
        return dense.numpy().astype("uint16")

    train_ids, test_ids = ids(train_texts), ids(test_texts)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez_compressed(
        args.out,
        train_ids=train_ids,
        train_labels=train_labels,
        test_ids=test_ids,
        test_labels=test_labels,
        vocabulary_size=tokenizer.vocabulary_size,
    )
    real = (train_ids != 0).sum() / train_ids.size
    print(f"wrote {args.out}: vocabulary {tokenizer.vocabulary_size}, "
          f"{real:.1%} of the {args.max_length}-token rows are real tokens")


def build(name, vocabulary_size, max_length, dropout):
    from keras_attnpred.models import build_rnn_classifier
    from keras_attnpred.models import build_transformer_classifier

    if name == "bigru_attention":
        return build_rnn_classifier(
            vocabulary_size, 2, embedding_dim=128, units=128, dropout=dropout
        )
    return build_transformer_classifier(
        vocabulary_size, 2, max_length, preset="small", dropout=dropout
    )


def train(args):
    import keras

    keras.utils.set_random_seed(0)
    data = np.load(args.ids)
    ids = data["train_ids"].astype("int32")
    labels = data["train_labels"]
    order = np.random.default_rng(0).permutation(len(ids))
    held_out = order[: len(ids) // 10]
    fit_part = order[len(ids) // 10 :]
    vocabulary_size = int(data["vocabulary_size"])
    results = {}
    for name in args.models:
        model = build(name, vocabulary_size, ids.shape[1], args.dropout)
        model.compile(
            optimizer=keras.optimizers.AdamW(args.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        start = time.perf_counter()
        history = model.fit(
            ids[fit_part],
            labels[fit_part],
            validation_data=(ids[held_out], labels[held_out]),
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=[
                keras.callbacks.EarlyStopping(
                    "val_accuracy", patience=2, restore_best_weights=True
                )
            ],
            verbose=2,
        )
        seconds = time.perf_counter() - start
        _, accuracy = model.evaluate(
            data["test_ids"].astype("int32"), data["test_labels"], verbose=0
        )
        results[name] = {
            "test_accuracy": round(float(accuracy), 4),
            "best_validation_accuracy": round(
                max(history.history["val_accuracy"]), 4
            ),
            "epochs_run": len(history.history["loss"]),
            "training_seconds": round(seconds, 1),
            "parameters": model.count_params(),
        }
        print(name, results[name])
    report = {
        "benchmark": "imdb_quality",
        "backend": keras.backend.backend(),
        "date": time.strftime("%Y-%m-%d"),
        "max_length": int(ids.shape[1]),
        "vocabulary_size": vocabulary_size,
        "settings": {k: v for k, v in vars(args).items() if k != "func"},
        "results": results,
    }
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.out}")


def baseline(args):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    train_texts, train_labels = read_reviews(args.data_dir, "train")
    test_texts, test_labels = read_reviews(args.data_dir, "test")
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    classifier = LinearSVC(C=0.5).fit(
        vectorizer.fit_transform(train_texts), train_labels
    )
    accuracy = (
        classifier.predict(vectorizer.transform(test_texts)) == test_labels
    ).mean()
    print(json.dumps({
        "model": "tf-idf (1-2 grams, sublinear) + LinearSVC(C=0.5)",
        "test_accuracy": round(float(accuracy), 4),
        "seconds": round(time.perf_counter() - start, 1),
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    step = steps.add_parser("prepare")
    step.add_argument("--data-dir", default=default_data_dir())
    step.add_argument("--out", default=".device_data/imdb.npz")
    step.add_argument("--vocabulary-size", type=int, default=16000)
    step.add_argument("--vocabulary-sample", type=int, default=8000)
    step.add_argument("--max-length", type=int, default=512)
    step.set_defaults(func=prepare)
    step = steps.add_parser("train")
    step.add_argument("--ids", default=".device_data/imdb.npz")
    step.add_argument("--out", default="imdb_quality.json")
    step.add_argument(
        "--models", nargs="+", default=["bigru_attention", "transformer"]
    )
    step.add_argument("--epochs", type=int, default=6)
    step.add_argument("--batch-size", type=int, default=64)
    step.add_argument("--learning-rate", type=float, default=1e-3)
    step.add_argument("--dropout", type=float, default=0.3)
    step.set_defaults(func=train)
    step = steps.add_parser("baseline")
    step.add_argument("--data-dir", default=default_data_dir())
    step.set_defaults(func=baseline)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
