"""Test accuracy of the attention classifiers, through `attnpred`.

A driver of the product's own path: each README classification row is a
config file under `examples/configs/`, prepared once, trained and
evaluated by the command line, one run per seed:

    # here (TensorFlow Text): tokenize once
    attnpred prepare --config examples/configs/imdb_bigru_bigrams.yaml --out .device_data/imdb
    # anywhere (the GPU machine: Keras on JAX, no TensorFlow)
    python benchmarks/classification_quality.py run \\
        --config examples/configs/imdb_bigru_bigrams.yaml \\
        --prepared .device_data/imdb --runs runs/quality --seeds 0 1 2
    # here: the tf-idf linear SVM on the same files (scikit-learn)
    python benchmarks/classification_quality.py baseline \\
        --config examples/configs/imdb_bigru_bigrams.yaml

`run` calls `attnpred train --config C --prepared P --seed S` and
`attnpred evaluate RUN --prepared P` (its test part) for each seed, and
writes `benchmarks/results/classification_quality_<backend>_<device>_<config>.json`.
"""

import argparse
import json
import os
import time

from _attnpred import ROOT
from _attnpred import attnpred
from _attnpred import last_json
from _attnpred import report_header
from _attnpred import run_facts
from _attnpred import write_report


def run(args):
    import keras
    from _results import default_out
    from _results import device_name

    device = os.environ.get("ATTNPRED_DEVICE") or device_name()

    name = os.path.splitext(os.path.basename(args.config))[0]
    out = args.out or default_out("classification_quality", name)
    report = report_header(
        "classification_quality", args.config, args.prepared,
        keras.backend.backend(), device,
    )
    report["train_flags"] = list(args.train_flags)
    report["results"] = {}
    for seed in args.seeds:
        run_dir = os.path.join(args.runs, f"{name}_seed{seed}")
        output = attnpred(
            "train", "--config", args.config, "--prepared", args.prepared,
            "--seed", seed, "--out", run_dir, "--overwrite",
            *args.train_flags,
        )
        trained = last_json(output)
        evaluation = last_json(
            attnpred("evaluate", run_dir, "--prepared", args.prepared)
        )
        report["results"][f"seed{seed}"] = {
            "test_accuracy": round(evaluation["accuracy"], 4),
            "test_loss": round(evaluation["loss"], 4),
            "train_accuracy": round(trained["train"]["accuracy"], 4),
            **run_facts(run_dir),
        }
        print(name, seed, report["results"][f"seed{seed}"], flush=True)
        write_report(out, report)
    accuracies = [r["test_accuracy"] for r in report["results"].values()]
    report["summary"] = {
        "single_models": len(accuracies),
        "mean_test_accuracy": round(sum(accuracies) / len(accuracies), 4),
        "min_test_accuracy": min(accuracies),
        "max_test_accuracy": max(accuracies),
    }
    write_report(out, report)
    print(f"wrote {out}")


def baseline(args):
    """tf-idf (1-2-grams, sublinear, min_df 2) + LinearSVC on the config's
    training and test files, as read by the product."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import PredefinedSplit
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from keras_attnpred.data import read_labeled_texts
    from keras_attnpred.training import TrainingConfig

    config = TrainingConfig.from_file(args.config)
    # All of the training file: the SVM needs no held-out part.
    parts = {"train": read_labeled_texts(
        config.train_path, config.text_column, config.label_column,
        label_names=config.label_names,
    )}
    parts["test"] = read_labeled_texts(
        config.test_path, config.text_column, config.label_column,
        label_names=parts["train"].label_names,
    )
    start = time.perf_counter()
    svm = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LinearSVC(C=args.c),
    )
    texts = list(parts["train"].texts) + list(parts["test"].texts)
    labels = np.concatenate([parts["train"].labels, parts["test"].labels])
    # One split: trains on the train part (-1) and scores the test part (0).
    split = PredefinedSplit([-1] * len(parts["train"]) + [0] * len(parts["test"]))
    (accuracy,) = cross_val_score(
        svm, texts, labels, cv=split, scoring="accuracy", error_score="raise"
    )
    print(json.dumps({
        "config": os.path.relpath(os.path.abspath(args.config), ROOT),
        "model": "tf-idf (1-2 grams, sublinear, min_df 2) + "
        f"LinearSVC(C={args.c})",
        "train_rows": len(parts["train"]),
        "test_rows": len(parts["test"]),
        "test_accuracy": round(float(accuracy), 4),
        "seconds": round(time.perf_counter() - start, 1),
    }))




def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)

    step = steps.add_parser("run", help="attnpred train + evaluate per seed")
    step.add_argument("--config", required=True)
    step.add_argument("--prepared", required=True)
    step.add_argument("--runs", default=os.path.join("runs", "quality"))
    step.add_argument("--seeds", nargs="+", type=int, default=[0])
    step.add_argument("--out", help="default benchmarks/results/...json")
    step.add_argument(
        "train_flags", nargs="*",
        help="more `attnpred train` flags, after --, e.g. -- --epochs 2",
    )
    step.set_defaults(func=run)

    step = steps.add_parser("baseline", help="tf-idf + linear SVM")
    step.add_argument("--config", required=True)
    step.add_argument("--c", type=float, default=0.5)
    step.set_defaults(func=baseline)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
