"""The `attnpred` command line: train, evaluate, predict, demo.

    attnpred train --task translation --data pairs.tsv --out runs/en-es
    attnpred train --config run.yaml --epochs 3        # flags override the file
    attnpred evaluate runs/en-es --data test.tsv
    attnpred predict runs/en-es "How are you?" "I like tea."
    attnpred demo                                       # the bundled example

Expected errors (bad flags, bad files, bad values, a training loss that
became NaN) print one line and exit with status 2; set ATTNPRED_DEBUG=1 to
see the traceback.
"""

import argparse
import json
import os
import sys

# Flags that map one to one onto `TrainingConfig` fields, with their parsers.
_TRAINING_FLAGS = {
    "task": dict(choices=["translation", "classification", "sentiment"]),
    "model": dict(choices=["transformer", "rnn"]),
    "attention": dict(
        choices=["bahdanau", "luong"], help="score of an RNN translator"
    ),
    "preset": dict(choices=["tiny", "small", "base"]),
    "validation_path": dict(
        nargs="+", metavar="PATH", help="validation data (else a split)"
    ),
    "test_path": dict(nargs="+", metavar="PATH", help="test data"),
    "validation_fraction": dict(type=float),
    "text_column": dict(help="column name or index of the text"),
    "label_column": dict(help="column name or index of the label"),
    "label_names": dict(help="comma-separated class names, in id order"),
    "reverse": dict(
        action="store_true", default=None, help="translate target to source"
    ),
    "max_length": dict(type=int, help="tokens kept per text"),
    "vocabulary_size": dict(type=int),
    "epochs": dict(type=int),
    "batch_size": dict(type=int, help="global batch size"),
    "learning_rate": dict(help='a float, or "transformer" for warm-up'),
    "warmup_steps": dict(type=int),
    "label_smoothing": dict(type=float),
    "clipnorm": dict(type=float),
    "mixed_precision": dict(
        choices=["float32", "mixed_float16", "mixed_bfloat16"]
    ),
    "strategy": dict(
        choices=["auto", "one-device", "mirrored", "multi-worker", "tpu"]
    ),
    "seed": dict(type=int),
    "early_stopping_patience": dict(type=int),
    "max_examples": dict(type=int, help="use at most this many examples"),
}

DEMO_SENTENCES = [
    "How are you?",
    "I like to read books.",
    "Where is the train station?",
    "We are going to the beach tomorrow.",
]


class CommandError(Exception):
    """An error the user can fix, reported in one line."""


def _resource(name):
    from importlib import resources

    return str(resources.files("keras_attnpred") / "resources" / name)


def _path_value(paths):
    """One path, or a (source, target) pair of aligned files."""
    if paths is None:
        return None
    if len(paths) > 2:
        raise CommandError(
            f"expected one file or two aligned files, got {len(paths)}: "
            + " ".join(paths)
        )
    return paths[0] if len(paths) == 1 else list(paths)


def _column(value):
    return int(value) if value is not None and value.isdigit() else value


def _training_config(args):
    from keras_attnpred.training import TrainingConfig

    values = {}
    if args.config:
        if not os.path.exists(args.config):
            raise CommandError(f"config file not found: {args.config}")
        values.update(TrainingConfig.from_file(args.config).to_dict())
    if args.data is not None:
        values["train_path"] = _path_value(args.data)
    for field in _TRAINING_FLAGS:
        value = getattr(args, field)
        if value is None:
            continue
        if field in ("validation_path", "test_path"):
            value = _path_value(value)
        elif field in ("text_column", "label_column"):
            value = _column(value)
        elif field == "label_names":
            value = [name.strip() for name in value.split(",")]
        elif field == "learning_rate" and value != "transformer":
            try:
                value = float(value)
            except ValueError:
                raise CommandError(
                    "--learning-rate must be a number or 'transformer'. "
                    f"Received: {value!r}"
                )
        values[field] = value
    for required in ("task", "train_path"):
        if required not in values:
            flag = "--data" if required == "train_path" else f"--{required}"
            raise CommandError(f"{flag} is required (or give it in --config)")
    return TrainingConfig.from_dict(values)


def _print_json(values):
    print(json.dumps(values, indent=2, ensure_ascii=False))


def _is_translation(run_dir):
    from keras_attnpred.training.training_run import read_run_config

    return read_run_config(run_dir).task == "translation"


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer. Received: {text!r}"
        )
    return value


def _check_run_dir(run_dir):
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        raise CommandError(
            f"{run_dir} is not a run directory (no config.json); "
            "make one with `attnpred train`"
        )


def command_train(args):
    from keras_attnpred.training import train

    config = _training_config(args)
    run = train(config, args.out)
    print(f"run written to {args.out}")
    _print_json(run.metrics)


def _translation_report(run_dir, pairs, max_examples=None):
    from keras_attnpred.decoding import Translator
    from keras_attnpred.decoding import translation_metrics

    sources, references = list(pairs.sources), list(pairs.targets)
    if max_examples:
        sources, references = sources[:max_examples], references[:max_examples]
    translator = Translator.load(run_dir)
    hypotheses = translator.translate(sources)
    return translation_metrics(hypotheses, references)


def _read_translation_data(paths, reverse):
    from keras_attnpred.data import ParallelTexts

    paths = _path_value(paths)
    if isinstance(paths, list):
        pairs = ParallelTexts.from_files(*paths)
    else:
        pairs = ParallelTexts.from_tsv(paths)
    return pairs.reversed() if reverse else pairs


def command_evaluate(args):
    from keras_attnpred.training import TrainingRun

    _check_run_dir(args.run)
    run = TrainingRun.load(args.run)
    config = run.config
    if config.task == "translation":
        pairs = _read_translation_data(args.data, config.reverse)
        if not len(pairs):
            raise CommandError(
                f"{' '.join(args.data)}: no examples to evaluate"
            )
        report = _translation_report(args.run, pairs, args.max_examples)
        report.update(run.evaluate(pairs))
    else:
        from keras_attnpred.data import LabeledTexts

        if len(args.data) != 1:
            raise CommandError(
                "a classification run is evaluated on one CSV/TSV file, "
                f"got {len(args.data)}: " + " ".join(args.data)
            )
        texts = LabeledTexts.from_csv(
            args.data[0],
            text_column=config.text_column,
            label_column=config.label_column,
            label_names=run.label_names,
        )
        if not len(texts):
            raise CommandError(f"{args.data[0]}: no examples to evaluate")
        report = run.evaluate(texts)
    _print_json(report)


def command_predict(args):
    _check_run_dir(args.run)
    if _is_translation(args.run):
        from keras_attnpred.decoding import Translator

        translator = Translator.load(args.run)
        for source, target in zip(args.texts, translator.translate(args.texts)):
            print(f"{source}\t{target}")
        return
    from keras_attnpred.training import TrainingRun

    run = TrainingRun.load(args.run)
    for text, prediction in zip(args.texts, run.predict(args.texts)):
        probability = max(prediction["probabilities"])
        print(f"{prediction['label_name']}\t{probability:.3f}\t{text}")


def command_demo(args):
    """Trains a small translator on the bundled English–Spanish sample."""
    from keras_attnpred.data import ParallelTexts
    from keras_attnpred.decoding import Translator
    from keras_attnpred.training import TrainingConfig
    from keras_attnpred.training import train

    config = TrainingConfig.from_dict(
        {
            "task": "translation",
            "model": "transformer",
            "preset": "small",
            "train_path": _resource("spa_eng_train.tsv.gz"),
            "validation_fraction": 0.05,
            "max_length": 24,
            "vocabulary_size": 4000,
            "epochs": args.epochs,
            "batch_size": 64,
            "learning_rate": "transformer",
            "warmup_steps": 1000,
            "label_smoothing": 0.1,
            # Short sentences of mixed length: bucketing halves the padding.
            "bucket_boundaries": "auto",
            "seed": 0,
        }
    )
    print(f"Training a small Transformer translator into {args.out}")
    run = train(config, args.out)
    test = ParallelTexts.from_tsv(_resource("spa_eng_test.tsv.gz"))
    report = _translation_report(args.out, test)
    report.update(run.evaluate(test))
    with open(os.path.join(args.out, "demo.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    print(f"Held-out test ({len(test)} pairs):")
    _print_json(report)
    translator = Translator.load(args.out)
    for source, target in zip(
        DEMO_SENTENCES, translator.translate(DEMO_SENTENCES)
    ):
        print(f"  {source}  ->  {target}")


def _flag(field):
    return "--" + field.replace("_", "-")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="attnpred",
        description="Train, evaluate and use attention models for "
        "translation, text classification and sentiment.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train_parser = commands.add_parser(
        "train", help="train a model into a run directory"
    )
    train_parser.add_argument(
        "--config", help="YAML or JSON file of training settings"
    )
    train_parser.add_argument(
        "--data",
        nargs="+",
        metavar="PATH",
        help="training data: a CSV/TSV file (or URL), or two aligned files",
    )
    train_parser.add_argument("--out", required=True, help="run directory")
    for field, options in _TRAINING_FLAGS.items():
        train_parser.add_argument(_flag(field), dest=field, **options)
    train_parser.set_defaults(handler=command_train)

    evaluate_parser = commands.add_parser(
        "evaluate", help="evaluate a trained run on labelled data"
    )
    evaluate_parser.add_argument("run", help="run directory")
    evaluate_parser.add_argument("--data", nargs="+", required=True)
    evaluate_parser.add_argument(
        "--max-examples",
        type=_positive_int,
        help="translation: score only the first N pairs with BLEU/chrF",
    )
    evaluate_parser.set_defaults(handler=command_evaluate)

    predict_parser = commands.add_parser(
        "predict", help="classify or translate texts with a trained run"
    )
    predict_parser.add_argument("run", help="run directory")
    predict_parser.add_argument("texts", nargs="+", help="texts")
    predict_parser.set_defaults(handler=command_predict)

    demo_parser = commands.add_parser(
        "demo", help="train, evaluate and use a translator on bundled data"
    )
    demo_parser.add_argument("--out", default=os.path.join("runs", "demo"))
    demo_parser.add_argument("--epochs", type=int, default=8)
    demo_parser.set_defaults(handler=command_demo)
    return parser


def _is_expected(error):
    """Whether `error` is the user's to fix, reported in one line."""
    if isinstance(error, (CommandError, ValueError, OSError)):
        return True
    # Looked up rather than imported: `--help` must not load TensorFlow.
    module = sys.modules.get("keras_attnpred.training.training_diverged_error")
    return module is not None and isinstance(
        error, module.TrainingDivergedError
    )


def main(argv=None):
    # TensorFlow's C++ start-up chatter buries the command's own output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except Exception as error:
        if not _is_expected(error) or os.environ.get("ATTNPRED_DEBUG"):
            raise
        message = " ".join(str(error).split())
        print(f"attnpred {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
