"""Test accuracy of the attention classifiers beside a tf-idf linear SVM.

Datasets: IMDB, 20 Newsgroups (bydate), SST-2 and TREC (coarse). Three
steps, because the GPU machine has JAX but no TensorFlow:

    # 1. here (TensorFlow Text): learn the vocabulary, write token ids
    .venv/bin/python benchmarks/classification_quality.py prepare --dataset imdb
    # 2. on the GPU machine (Keras on JAX): train and test the models
    KERAS_BACKEND=jax python3 benchmarks/classification_quality.py train \\
        --ids .device_data/imdb.npz --out benchmarks/results/imdb_quality.json
    # 3. here: the linear baseline (needs scikit-learn)
    .venv/bin/python benchmarks/classification_quality.py baseline --dataset imdb

Data comes from $ATTNPRED_DATA (or --data-dir). The models are trained from
scratch; 10% of the training part is held out to pick the best epoch. IMDB
and 20 Newsgroups have a test part; SST-2 and TREC are distributed here as
their training split only, so their "test" part is a seeded 10% of it, never
seen in training or model selection.

`--seeds 0 1 2` trains each model once per seed; `summarize` merges the
outputs of several `train` runs (they can run side by side on one GPU) and
adds the ensembles: the average of the member models' probabilities.
"""

import argparse
import json
import os
import re
import time

import numpy as np
from _data_dir import default_data_dir


def _labeled(path, text_column, label_column, **kwargs):
    from keras_attnpred.data import LabeledTexts

    return LabeledTexts.from_csv(
        path, text_column=text_column, label_column=label_column, **kwargs
    )


def _held_out_split(texts, labels, fraction=0.1, seed=1234):
    order = np.random.default_rng(seed).permutation(len(texts))
    test = order[: int(len(texts) * fraction)]
    train = order[int(len(texts) * fraction):]
    texts = np.asarray(texts, dtype=object)
    labels = np.asarray(labels)
    return (list(texts[train]), labels[train]), (list(texts[test]), labels[test])


def read_dataset(data_dir, name):
    """Returns ((train_texts, train_labels), (test_texts, test_labels), label_names)."""
    if name == "imdb":
        names = ["negative", "positive"]
        parts = []
        for part in ("train", "test"):
            data = _labeled(
                os.path.join(data_dir, "imdb", f"{part}.csv.gz"),
                "review", "label", label_names=names,
            )
            # The reviews keep the HTML line breaks of the original pages.
            texts = [re.sub(r"<br\s*/?>", " ", t) for t in data.texts]
            parts.append((texts, np.asarray(data.labels)))
        return parts[0], parts[1], names
    if name == "newsgroups":
        parts = []
        for part in ("train", "test"):
            data = _labeled(
                os.path.join(data_dir, "20newsgroups", f"{part}.csv.gz"),
                "text", "label_name",
            )
            parts.append((list(data.texts), np.asarray(data.labels)))
        # from_csv numbers label names in sorted order on each part; the
        # bydate parts share all 20 groups, so the ids agree.
        names = list(data.label_names)
        return parts[0], parts[1], names
    if name == "sst2":
        data = _labeled(
            os.path.join(data_dir, "sst2", "train.tsv.gz"), "sentence", "label",
            delimiter="\t", label_names=["0", "1"], quoted=False,
        )
        train, test = _held_out_split(data.texts, data.labels)
        return train, test, ["negative", "positive"]
    if name == "trec":
        data = _labeled(
            os.path.join(data_dir, "trec", "train.csv"), "text", "coarse_label"
        )
        train, test = _held_out_split(data.texts, data.labels)
        return train, test, list(data.label_names)
    raise ValueError(f"Unknown dataset. Received: dataset={name!r}")


def prepare(args):
    from keras_attnpred.text import SubwordTokenizer

    (train_texts, train_labels), (test_texts, test_labels), names = (
        read_dataset(args.data_dir, args.dataset)
    )
    start = time.perf_counter()
    tokenizer = SubwordTokenizer.train(train_texts, args.vocabulary_size)

    def ids(texts):
        ragged = tokenizer.tokenize(texts)
        rows = []
        for row in ragged.numpy():
            if len(row) > args.max_length and args.head_tokens is not None:
                # Keep the opening and the end of long texts: reviews often
                # give their verdict in the last sentences.
                tail = args.max_length - args.head_tokens
                row = np.concatenate([row[: args.head_tokens], row[-tail:]])
            row = row[: args.max_length]
            rows.append(np.pad(row, (0, args.max_length - len(row))))
        return np.stack(rows).astype("uint16")

    train_ids, test_ids = ids(train_texts), ids(test_texts)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez_compressed(
        args.out,
        train_ids=train_ids,
        train_labels=np.asarray(train_labels),
        test_ids=test_ids,
        test_labels=np.asarray(test_labels),
        vocabulary_size=tokenizer.vocabulary_size,
        label_names=np.asarray(names),
        dataset=args.dataset,
    )
    real = (train_ids != 0).sum() / train_ids.size
    print(
        f"wrote {args.out}: {len(train_ids)} train / {len(test_ids)} test rows, "
        f"{len(names)} classes, vocabulary {tokenizer.vocabulary_size}, "
        f"{real:.1%} of the {args.max_length}-token rows are real tokens, "
        f"{time.perf_counter() - start:.0f} s"
    )


def build(name, vocabulary_size, num_classes, max_length, args):
    from keras_attnpred.models import build_rnn_classifier
    from keras_attnpred.models import build_transformer_classifier

    if name == "bigru_attention":
        return build_rnn_classifier(
            vocabulary_size,
            num_classes,
            embedding_dim=args.embedding_dim,
            units=args.units,
            dropout=args.dropout,
            bigram_buckets=args.bigram_buckets,
        )
    if name == "transformer":
        return build_transformer_classifier(
            vocabulary_size, num_classes, max_length, preset="small",
            dropout=args.dropout, bigram_buckets=args.bigram_buckets,
        )
    if name == "embedding_attention":
        return _embedding_attention_classifier(vocabulary_size, num_classes, args)
    raise ValueError(f"Unknown model. Received: model={name!r}")


def _embedding_attention_classifier(vocabulary_size, num_classes, args):
    """Token (and bigram) embeddings → `AttentionPooling` → logits: the
    attention classifier without a sequence encoder (fastText's bag of
    n-grams, with learned weights instead of a plain average)."""
    import keras

    from keras_attnpred.layers import AttentionPooling
    from keras_attnpred.layers import HashedBigramEmbedding

    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(
        vocabulary_size, args.embedding_dim, mask_zero=True, name="embedding"
    )(tokens)
    if args.bigram_buckets:
        bigrams = HashedBigramEmbedding(
            vocabulary_size, args.bigram_buckets, args.embedding_dim,
            name="bigram_embedding",
        )(tokens)
        x = keras.layers.Add(name="embedding_sum")([x, bigrams])
    x = keras.layers.Dropout(args.dropout, name="embedding_dropout")(x)
    x = AttentionPooling(name="pooling")(x)
    x = keras.layers.Dropout(args.dropout, name="pooling_dropout")(x)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(tokens, logits, name="embedding_attention_classifier")


def train(args):
    import keras

    keras.config.set_dtype_policy(args.dtype_policy)
    if args.no_flash_attention:
        # Also keeps attention dropout off cuDNN (keras_attnpred.ops).
        keras.config.disable_flash_attention()

    data = np.load(args.ids)
    ids = data["train_ids"].astype("int32")
    labels = data["train_labels"]
    test_ids = data["test_ids"].astype("int32")
    test_labels = data["test_labels"]
    num_classes = len(data["label_names"])
    order = np.random.default_rng(0).permutation(len(ids))
    held_out = order[: len(ids) // 10]
    fit_part = order[len(ids) // 10:]
    vocabulary_size = int(data["vocabulary_size"])
    results = {}
    for name in args.models:
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            model = build(name, vocabulary_size, num_classes, ids.shape[1], args)
            model.compile(
                optimizer=keras.optimizers.AdamW(
                    args.learning_rate, weight_decay=args.weight_decay
                ),
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
                        "val_accuracy",
                        patience=args.patience,
                        restore_best_weights=True,
                    )
                ],
                verbose=2,
            )
            seconds = time.perf_counter() - start
            logits = model.predict(test_ids, batch_size=256, verbose=0)
            probabilities = np.asarray(
                keras.ops.softmax(logits.astype("float32"))
            )
            suffix = f"_bigrams{args.bigram_buckets}" if args.bigram_buckets else ""
            key = f"{name}{suffix}/seed{seed}"
            results[key] = {
                "test_accuracy": _accuracy(probabilities, test_labels),
                "best_validation_accuracy": round(
                    max(history.history["val_accuracy"]), 4
                ),
                "epochs_run": len(history.history["loss"]),
                "training_seconds": round(seconds, 1),
                "parameters": model.count_params(),
                # Kept for `summarize`, which averages them into ensembles.
                "test_probabilities": np.round(probabilities, 4).tolist(),
            }
            print(key, {k: v for k, v in results[key].items()
                        if k != "test_probabilities"}, flush=True)
            _write(args.out, data, keras.backend.backend(), ids, len(fit_part),
                   len(held_out), len(test_ids), vocabulary_size, args, results)
    print(f"wrote {args.out}")


def _write(out, data, backend, ids, train_rows, held_out_rows, test_rows,
           vocabulary_size, args, results):
    report = {
        "benchmark": "classification_quality",
        "dataset": str(data["dataset"]),
        "backend": backend,
        "date": time.strftime("%Y-%m-%d"),
        "max_length": int(ids.shape[1]),
        "vocabulary_size": vocabulary_size,
        "train_rows": int(train_rows),
        "held_out_rows": int(held_out_rows),
        "test_rows": int(test_rows),
        "settings": {k: v for k, v in vars(args).items() if k != "func"},
        "results": results,
    }
    with open(out, "w") as f:
        json.dump(report, f)


def summarize(args):
    """Merges `train` outputs of one dataset and adds the ensembles."""
    merged = None
    for path in args.results:
        with open(path) as f:
            report = json.load(f)
        if merged is None:
            merged = dict(report, results={}, runs=[])
        if report["dataset"] != merged["dataset"]:
            raise ValueError(
                "All results must be of one dataset. Received: "
                f"{report['dataset']!r} in {path} after {merged['dataset']!r}"
            )
        merged["runs"].append({"file": os.path.basename(path),
                               "settings": report["settings"]})
        merged["results"].update(report["results"])
    merged.pop("settings")
    data = np.load(args.ids)
    labels = data["test_labels"]
    members = {}
    for key, result in merged["results"].items():
        members.setdefault(key.split("/")[0], []).append(
            np.asarray(result.pop("test_probabilities"))
        )
    for name, probabilities in members.items():
        if len(probabilities) > 1:
            merged["results"][f"{name}/ensemble"] = {
                "test_accuracy": _accuracy(np.mean(probabilities, 0), labels),
                "members": len(probabilities),
            }
    # Variants of one architecture (with and without bigrams) together.
    variants = {}
    for name in members:
        variants.setdefault(name.split("_bigrams")[0], []).append(name)
    for architecture, names in variants.items():
        if len(names) > 1:
            probabilities = [p for name in names for p in members[name]]
            merged["results"][f"{architecture}_all_variants/ensemble"] = {
                "test_accuracy": _accuracy(np.mean(probabilities, 0), labels),
                "members": len(probabilities),
            }
    every = [p for group in members.values() for p in group]
    if len(members) > 1:
        merged["results"]["all/ensemble"] = {
            "test_accuracy": _accuracy(np.mean(every, 0), labels),
            "members": len(every),
        }
    for key, result in merged["results"].items():
        print(f"{key:28s} {result['test_accuracy']:.2%}")
    with open(args.out, "w") as f:
        json.dump(merged, f, indent=2)
    print(f"wrote {args.out}")


def _accuracy(probabilities, labels):
    return round(float((np.argmax(probabilities, -1) == labels).mean()), 4)


def baseline(args):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    (train_texts, train_labels), (test_texts, test_labels), _ = read_dataset(
        args.data_dir, args.dataset
    )
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    classifier = LinearSVC(C=args.c).fit(
        vectorizer.fit_transform(train_texts), train_labels
    )
    predictions = classifier.predict(vectorizer.transform(test_texts))
    print(json.dumps({
        "dataset": args.dataset,
        "model": f"tf-idf (1-2 grams, sublinear, min_df 2) + LinearSVC(C={args.c})",
        "test_accuracy": _accuracy(np.eye(max(test_labels) + 1)[predictions], test_labels),
        "seconds": round(time.perf_counter() - start, 1),
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    datasets = ["imdb", "newsgroups", "sst2", "trec"]

    step = steps.add_parser("prepare", help="tokenize here, write an .npz")
    step.add_argument("--dataset", choices=datasets, required=True)
    step.add_argument("--data-dir", default=default_data_dir())
    step.add_argument("--out", help="default .device_data/DATASET.npz")
    step.add_argument("--vocabulary-size", type=int, default=16000)
    step.add_argument("--max-length", type=int, default=512)
    step.add_argument(
        "--head-tokens", type=int, default=None,
        help="keep this many opening tokens and the end of longer texts "
        "(default: keep the opening max-length tokens)",
    )
    step.set_defaults(func=prepare)

    step = steps.add_parser("train", help="train and test (Keras, any backend)")
    step.add_argument("--ids", required=True)
    step.add_argument("--out", required=True)
    step.add_argument(
        "--models", nargs="+", default=["bigru_attention", "transformer"],
        choices=["bigru_attention", "transformer", "embedding_attention"],
    )
    step.add_argument("--seeds", nargs="+", type=int, default=[0])
    step.add_argument("--epochs", type=int, default=6)
    step.add_argument("--patience", type=int, default=2)
    step.add_argument("--batch-size", type=int, default=64)
    step.add_argument("--learning-rate", type=float, default=1e-3)
    step.add_argument("--weight-decay", type=float, default=0.004)
    step.add_argument("--dropout", type=float, default=0.3)
    step.add_argument("--embedding-dim", type=int, default=128)
    step.add_argument("--units", type=int, default=128)
    step.add_argument(
        "--bigram-buckets", type=int, default=None,
        help="add hashed bigram embeddings with this many rows to the "
        "token embeddings (default: none)",
    )
    step.add_argument("--dtype-policy", default="float32")
    step.add_argument(
        "--no-flash-attention", action="store_true",
        help="keras.config.disable_flash_attention(): explicit softmax, and "
        "attention dropout from keras.random instead of cuDNN",
    )
    step.set_defaults(func=train)

    step = steps.add_parser("summarize", help="merge train outputs, add ensembles")
    step.add_argument("results", nargs="+")
    step.add_argument("--ids", required=True)
    step.add_argument("--out", required=True)
    step.set_defaults(func=summarize)

    step = steps.add_parser("baseline", help="tf-idf + linear SVM (scikit-learn)")
    step.add_argument("--dataset", choices=datasets, required=True)
    step.add_argument("--data-dir", default=default_data_dir())
    step.add_argument("--c", type=float, default=0.5)
    step.set_defaults(func=baseline)

    args = parser.parse_args()
    if args.step == "prepare" and args.out is None:
        args.out = os.path.join(".device_data", f"{args.dataset}.npz")
    args.func(args)


if __name__ == "__main__":
    main()
