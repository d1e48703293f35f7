"""BLEU and chrF of the translators, trained from scratch.

Pairs: Multi30k (task 1) German→English and English→German, scored on
test2016 (`test_2016_flickr`), and English→Spanish (Tatoeba), scored on the
distributed valid part. Three steps, because the GPU machine has JAX but no
TensorFlow:

    # 1. here (TensorFlow Text): learn the vocabularies, write token ids
    .venv/bin/python benchmarks/translation_quality.py prepare --pair multi30k-de-en
    # 2. on the GPU machine (Keras on JAX): train, then decode the test part
    KERAS_BACKEND=jax python3 benchmarks/translation_quality.py train \\
        --ids .device_data/multi30k-de-en.npz --models transformer bahdanau luong \\
        --out benchmarks/results/translation_multi30k-de-en.json
    # 3. here: detokenize and score with sacreBLEU
    .venv/bin/python benchmarks/translation_quality.py score \\
        --pair multi30k-de-en benchmarks/results/translation_multi30k-de-en.json

The target vocabulary keeps case; BLEU is sacreBLEU's default (cased, 13a)
on detokenized text, the same as `attnpred evaluate`.
"""

import argparse
import json
import os
import time

import numpy as np
from _data_dir import default_data_dir

START_ID, END_ID = 2, 3


def read_pair(data_dir, pair):
    """Returns {"train"|"valid"|"test": (sources, targets)}."""
    from keras_attnpred.data import ParallelTexts

    if pair.startswith("multi30k-"):
        source, target = pair.split("-")[1:]
        folder = os.path.join(data_dir, "multi30k")
        parts = {"train": "train", "valid": "val", "test": "test_2016_flickr"}
        read = {
            name: ParallelTexts.from_files(
                os.path.join(folder, f"{stem}.{source}.gz"),
                os.path.join(folder, f"{stem}.{target}.gz"),
            )
            for name, stem in parts.items()
        }
    elif pair == "spa-eng":
        folder = os.path.join(data_dir, "spa-eng")
        train = ParallelTexts.from_tsv(os.path.join(folder, "train.tsv.gz"))
        test = ParallelTexts.from_tsv(os.path.join(folder, "valid.tsv.gz"))
        # The distributed split has no third part: hold out 2% of train
        # (by English sentence, like the split itself) to pick the epoch.
        english = sorted(set(train.sources))
        rng = np.random.default_rng(0)
        held = set(rng.choice(english, len(english) // 50, replace=False))
        rows = list(zip(train.sources, train.targets))
        fit = [r for r in rows if r[0] not in held]
        valid = [r for r in rows if r[0] in held]
        read = {
            "train": _Pairs(*zip(*fit)),
            "valid": _Pairs(*zip(*valid)),
            "test": test,
        }
    else:
        raise ValueError(f"Unknown pair. Received: pair={pair!r}")
    return {name: (list(p.sources), list(p.targets)) for name, p in read.items()}


class _Pairs:
    def __init__(self, sources, targets):
        self.sources, self.targets = sources, targets


def prepare(args):
    from keras_attnpred.text import SubwordTokenizer

    start = time.perf_counter()
    parts = read_pair(args.data_dir, args.pair)
    sources, targets = parts["train"]
    source_tokenizer = SubwordTokenizer.train(sources, args.vocabulary_size)
    # Cased target: the outputs are scored with cased BLEU.
    target_tokenizer = SubwordTokenizer.train(
        targets, args.vocabulary_size, lowercase=False
    )
    folder = os.path.splitext(args.out)[0]
    source_tokenizer.save(os.path.join(folder, "source_tokenizer"))
    target_tokenizer.save(os.path.join(folder, "target_tokenizer"))

    def pad(rows, length):
        out = np.zeros((len(rows), length), "uint16")
        for i, row in enumerate(rows):
            row = row[:length]
            out[i, : len(row)] = row
        return out

    arrays = {}
    for name, (part_sources, part_targets) in parts.items():
        source_rows = source_tokenizer.tokenize(part_sources).to_list()
        target_rows = [
            [START_ID] + row + [END_ID]
            for row in target_tokenizer.tokenize(part_targets).to_list()
        ]
        arrays[f"{name}_source"] = pad(source_rows, args.max_length)
        # One more than max_length: inputs are [:-1], labels [1:].
        arrays[f"{name}_target"] = pad(target_rows, args.max_length + 1)
        if name == "train":
            cut = np.mean([len(r) > args.max_length for r in source_rows])
            print(f"{cut:.2%} of training sources longer than {args.max_length}")
    np.savez_compressed(
        args.out,
        source_vocabulary_size=source_tokenizer.vocabulary_size,
        target_vocabulary_size=target_tokenizer.vocabulary_size,
        pair=args.pair,
        **arrays,
    )
    print(
        f"wrote {args.out} and {folder}/: "
        + ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
        + f"; vocabularies {source_tokenizer.vocabulary_size} / "
        f"{target_tokenizer.vocabulary_size}; {time.perf_counter() - start:.0f} s"
    )


def build(name, data, args):
    from keras_attnpred.models import build_rnn_translator
    from keras_attnpred.models import build_transformer_translator

    source_size = int(data["source_vocabulary_size"])
    target_size = int(data["target_vocabulary_size"])
    if name == "transformer":
        return build_transformer_translator(
            source_size,
            target_size,
            max_length=data["train_source"].shape[1],
            num_layers=args.num_layers,
            model_dim=args.model_dim,
            num_heads=args.num_heads,
            intermediate_dim=args.intermediate_dim,
            dropout=args.dropout,
            tie_query_key_init=not args.untied_query_key_init,
        )
    return build_rnn_translator(
        source_size,
        target_size,
        attention=name,
        embedding_dim=args.embedding_dim,
        units=args.units,
        dropout=args.dropout,
    )


def optimizer(name, args, steps_per_epoch):
    import keras

    from keras_attnpred.training import TransformerSchedule

    if name == "transformer":
        schedule = TransformerSchedule(
            args.model_dim, args.warmup_steps, scale=args.schedule_scale
        )
        return keras.optimizers.Adam(
            schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9, clipnorm=1.0
        )
    decay = keras.optimizers.schedules.CosineDecay(
        args.rnn_learning_rate, args.epochs * steps_per_epoch, alpha=0.05
    )
    return keras.optimizers.Adam(decay, clipnorm=1.0)


def _searches(args):
    """The decoders to score: greedy, and beam search when asked for."""
    from keras_attnpred.decoding.beam_search import beam_search
    from keras_attnpred.decoding.greedy_search import greedy_search

    searches = {
        "greedy": lambda model, source: greedy_search(
            model, source, max_length=args.decode_length
        )
    }
    if args.beam_width > 1:
        searches[f"beam{args.beam_width}"] = lambda model, source: beam_search(
            model,
            source,
            beam_width=args.beam_width,
            length_penalty=args.length_penalty,
            max_length=args.decode_length,
        )[0][:, 0]
    return searches


class _EpochWeights:
    """Keeps the trainable weights of the last `keep` epochs (host copies)."""

    def __init__(self, keep):
        import collections

        import keras

        self.kept = collections.OrderedDict()
        self.keep = keep
        outer = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                outer.kept[epoch + 1] = [
                    keras.ops.convert_to_numpy(v)
                    for v in self.model.trainable_variables
                ]
                while len(outer.kept) > outer.keep:
                    outer.kept.popitem(last=False)

        self.callback = Callback()

    def average(self, last_epoch, count):
        """The mean of the weights of epochs `last_epoch - count + 1 ..`."""
        epochs = [e for e in self.kept if last_epoch - count < e <= last_epoch]
        weights = [self.kept[e] for e in epochs]
        return epochs, [np.mean(group, axis=0) for group in zip(*weights)]


def _average_checkpoints(model, epoch_weights, best_epoch, args, valid):
    """Averages the epochs up to the best one when that lowers the
    validation loss (the checkpoint averaging of Vaswani et al., 2017);
    otherwise keeps the best epoch. Returns what was kept, for the report.
    """
    import keras

    best_loss = model.evaluate(*valid, verbose=0)[0]
    epochs, averaged = epoch_weights.average(best_epoch, args.average_last)
    # Host copies: on TensorFlow `.value` would follow later assignments.
    best = [
        keras.ops.convert_to_numpy(v) for v in model.trainable_variables
    ]
    for variable, value in zip(model.trainable_variables, averaged):
        variable.assign(value)
    averaged_loss = model.evaluate(*valid, verbose=0)[0]
    kept = {
        "best_epoch_validation_loss": round(float(best_loss), 4),
        "averaged_epochs": [min(epochs), max(epochs)],
        "averaged_validation_loss": round(float(averaged_loss), 4),
    }
    if averaged_loss < best_loss:
        kept["decoded_weights"] = f"average of epochs {min(epochs)}-{max(epochs)}"
    else:
        for variable, value in zip(model.trainable_variables, best):
            variable.assign(value)
        kept["decoded_weights"] = f"best epoch {best_epoch}"
    print(kept, flush=True)
    return kept


def train(args):
    import keras

    from keras_attnpred.models import MaskedSparseCategoricalAccuracy
    from keras_attnpred.models import MaskedSparseCategoricalCrossentropy

    data = np.load(args.ids)

    def split(part):
        source = data[f"{part}_source"].astype("int32")
        target = data[f"{part}_target"].astype("int32")
        return {"source": source, "target": target[:, :-1]}, target[:, 1:]

    train_x, train_y = split("train")
    valid_x, valid_y = split("valid")
    test_source = data["test_source"].astype("int32")
    steps_per_epoch = -(-len(train_y) // args.batch_size)
    report = {
        "benchmark": "translation_quality",
        "pair": str(data["pair"]),
        "backend": keras.backend.backend(),
        "date": time.strftime("%Y-%m-%d"),
        "settings": {k: v for k, v in vars(args).items() if k != "func"},
        "results": {},
    }
    for name in args.models:
        keras.utils.set_random_seed(args.seed)
        model = build(name, data, args)
        model.compile(
            optimizer=optimizer(name, args, steps_per_epoch),
            loss=MaskedSparseCategoricalCrossentropy(
                label_smoothing=args.label_smoothing
            ),
            metrics=[MaskedSparseCategoricalAccuracy(name="accuracy")],
        )
        callbacks = [
            keras.callbacks.EarlyStopping(
                "val_loss", patience=args.patience, restore_best_weights=True
            )
        ]
        if args.average_last > 1:
            # The best epoch is at most `patience` epochs before the last.
            epoch_weights = _EpochWeights(args.average_last + args.patience)
            callbacks.append(epoch_weights.callback)
        start = time.perf_counter()
        history = model.fit(
            train_x,
            train_y,
            validation_data=(valid_x, valid_y),
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=callbacks,
            verbose=2,
        )
        training_seconds = time.perf_counter() - start
        best_epoch = int(np.argmin(history.history["val_loss"])) + 1
        averaging = None
        if args.average_last > 1:
            averaging = _average_checkpoints(
                model, epoch_weights, best_epoch, args, (valid_x, valid_y)
            )
        _, valid_accuracy = model.evaluate(valid_x, valid_y, verbose=0)
        test_outputs = {}
        seconds = {}
        for search, decode in _searches(args).items():
            start = time.perf_counter()
            outputs = []
            for begin in range(0, len(test_source), args.decode_batch_size):
                outputs.extend(
                    decode(
                        model, test_source[begin : begin + args.decode_batch_size]
                    ).tolist()
                )
            seconds[search] = round(time.perf_counter() - start, 1)
            test_outputs[search] = [
                row[: row.index(END_ID)] if END_ID in row else row
                for row in outputs
            ]
        report["results"][name] = {
            "parameters": model.count_params(),
            "epochs_run": len(history.history["loss"]),
            "best_epoch": best_epoch,
            "checkpoint_averaging": averaging,
            "best_validation_loss": round(min(history.history["val_loss"]), 4),
            "validation_token_accuracy": round(float(valid_accuracy), 4),
            "training_seconds": round(training_seconds, 1),
            "decoding_seconds": seconds,
            "test_output_ids": test_outputs,
        }
        print(name, {k: v for k, v in report["results"][name].items()
                     if k != "test_output_ids"}, flush=True)
        with open(args.out, "w") as f:
            json.dump(report, f)
    print(f"wrote {args.out}")


def score(args):
    from keras_attnpred.decoding import translation_metrics
    from keras_attnpred.text import load_tokenizer
    from keras_attnpred.text.join_punctuation import readable_text

    with open(args.results) as f:
        report = json.load(f)
    folder = os.path.splitext(args.ids)[0]
    tokenizer = load_tokenizer(os.path.join(folder, "target_tokenizer"))
    references = read_pair(args.data_dir, report["pair"])["test"][1]
    for name, result in report["results"].items():
        outputs = result.pop("test_output_ids")
        if isinstance(outputs, list):  # files written before beam search
            outputs = {"greedy": outputs}
        result["scores"] = {}
        for search, rows in outputs.items():
            rows = [row or [0] for row in rows]
            width = max(len(r) for r in rows)
            ids = np.array([r + [0] * (width - len(r)) for r in rows], "int32")
            hypotheses = [
                readable_text(tokenizer, t) for t in tokenizer.detokenize(ids)
            ]
            scores = translation_metrics(hypotheses, references)
            scores["examples"] = [
                {"hypothesis": h, "reference": r}
                for h, r in zip(hypotheses[:3], references[:3])
            ]
            result["scores"][search] = scores
            print(name, search, f"BLEU {scores['bleu']:.2f}",
                  f"chrF {scores['chrf']:.2f}")
    out = args.out or args.results
    with open(out, "w") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    pairs = ["multi30k-de-en", "multi30k-en-de", "spa-eng"]

    step = steps.add_parser("prepare", help="tokenize here, write an .npz")
    step.add_argument("--pair", choices=pairs, required=True)
    step.add_argument("--data-dir", default=default_data_dir())
    step.add_argument("--out", help="default .device_data/PAIR.npz")
    step.add_argument("--vocabulary-size", type=int, default=8000)
    step.add_argument("--max-length", type=int, default=64)
    step.set_defaults(func=prepare)

    step = steps.add_parser("train", help="train and decode (Keras, any backend)")
    step.add_argument("--ids", required=True)
    step.add_argument("--out", required=True)
    step.add_argument(
        "--models", nargs="+", default=["transformer", "bahdanau", "luong"],
        choices=["transformer", "bahdanau", "luong"],
    )
    step.add_argument("--epochs", type=int, default=30)
    step.add_argument("--patience", type=int, default=4)
    step.add_argument("--batch-size", type=int, default=128)
    step.add_argument("--seed", type=int, default=0)
    step.add_argument("--label-smoothing", type=float, default=0.1)
    step.add_argument("--dropout", type=float, default=0.3)
    step.add_argument("--num-layers", type=int, default=3)
    step.add_argument("--model-dim", type=int, default=256)
    step.add_argument("--num-heads", type=int, default=8)
    step.add_argument("--intermediate-dim", type=int, default=1024)
    step.add_argument(
        "--untied-query-key-init",
        action="store_true",
        help="Transformer: query and key kernels from independent draws "
        "(the builder ties them by default)",
    )
    step.add_argument("--warmup-steps", type=int, default=1000)
    step.add_argument("--schedule-scale", type=float, default=1.0)
    step.add_argument("--embedding-dim", type=int, default=256)
    step.add_argument("--units", type=int, default=512)
    step.add_argument("--rnn-learning-rate", type=float, default=1e-3)
    step.add_argument(
        "--average-last",
        type=int,
        default=0,
        help="average the weights of this many epochs up to the best one "
        "and decode with them when their validation loss is lower",
    )
    step.add_argument("--decode-batch-size", type=int, default=250)
    step.add_argument("--decode-length", type=int, default=64)
    step.add_argument(
        "--beam-width", type=int, default=4,
        help="also decode with beam search of this width (1: greedy only)",
    )
    step.add_argument("--length-penalty", type=float, default=0.6)
    step.set_defaults(func=train)

    step = steps.add_parser("score", help="detokenize and score here")
    step.add_argument("results")
    step.add_argument("--ids", help="default .device_data/PAIR.npz")
    step.add_argument("--pair", choices=pairs, required=True)
    step.add_argument("--data-dir", default=default_data_dir())
    step.add_argument("--out", help="default: rewrite RESULTS in place")
    step.set_defaults(func=score)

    args = parser.parse_args()
    if getattr(args, "out", None) is None and args.step == "prepare":
        args.out = os.path.join(".device_data", f"{args.pair}.npz")
    if args.step == "score" and args.ids is None:
        args.ids = os.path.join(".device_data", f"{args.pair}.npz")
    args.func(args)


if __name__ == "__main__":
    main()
