"""The `attnpred` command line: train, evaluate, predict, explain, demo.

    attnpred train --task translation --data pairs.tsv --out runs/en-es
    attnpred train --config run.yaml --epochs 3        # flags override the file
    attnpred prepare --config run.yaml --out prepared/imdb   # tokenize once
    attnpred train --config run.yaml --prepared prepared/imdb --out runs/imdb
    attnpred evaluate runs/imdb --prepared prepared/imdb     # its test part
    attnpred train --task sentiment --data tfds:imdb_reviews --tokenizer sentencepiece --out runs/imdb
    attnpred evaluate runs/en-es --data test.tsv
    attnpred predict runs/en-es "How are you?" "I like tea."
    attnpred predict runs/en-es --beam-width 4 --length-penalty 0.6 "Hi."
    attnpred explain runs/en-es "How are you?" --out alignment.png
    attnpred export runs/en-es --out exports/en-es     # TF Serving + TFLite
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
    "task": dict(
        choices=["translation", "classification", "sentiment", "pretraining"]
    ),
    "model": dict(choices=["transformer", "rnn"]),
    "attention": dict(
        choices=["bahdanau", "luong"], help="score of an RNN translator"
    ),
    "preset": dict(choices=["tiny", "small", "base", "large"]),
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
    "max_length": dict(
        type=int,
        help="tokens kept per text; default: fitted to the training data "
        "(95th percentile of the lengths for classification, the longest "
        "pair for translation, at most 512 / 256)",
    ),
    "head_tokens": dict(
        type=int,
        help="classification: longer texts keep this many opening tokens "
        "and the end (default: the opening max-length tokens)",
    ),
    "vocabulary_size": dict(type=int),
    "tokenizer": dict(
        choices=["wordpiece", "sentencepiece"],
        help="subword tokenizer learned on the training data (default "
        "wordpiece; sentencepiece needs the sentencepiece package)",
    ),
    "epochs": dict(type=int),
    "batch_size": dict(type=int, help="global batch size"),
    "bucket_boundaries": dict(
        help='"auto" (length quantiles) or comma-separated lengths: batch '
        "texts of similar length together",
    ),
    "max_tokens": dict(
        type=int, help="batches of this many tokens instead of --batch-size"
    ),
    "learning_rate": dict(help='a float, or "transformer" for warm-up'),
    "learning_rate_decay": dict(
        choices=["cosine"], help="decay a float learning rate to 5%%"
    ),
    "weight_decay": dict(type=float, help="AdamW weight decay when > 0"),
    "warmup_steps": dict(
        type=int,
        help="linear warm-up of the learning rate, in steps (default: 4000 "
        "with --learning-rate transformer, none with a float rate)",
    ),
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
    "monitor": dict(
        choices=["val_loss", "val_accuracy"],
        help="what picks the best epoch (early stopping, best.keras, "
        "averaging)",
    ),
    "average_last_epochs": dict(
        type=int,
        help="average the weights of this many epochs up to the best one, "
        "kept when they validate better",
    ),
    "max_examples": dict(type=int, help="use at most this many examples"),
    "bigram_buckets": dict(
        type=int,
        help="classifiers: add hashed bigram embeddings with this many rows "
        "(e.g. 1048576; vocabulary at most 46340)",
    ),
    "dropout": dict(type=float, help="default: the preset's (RNNs: 0)"),
    "activation_dropout": dict(
        type=float, help="Transformers: dropout inside the feed-forward blocks"
    ),
    "embedding_dim": dict(type=int, help="RNNs: overrides the preset"),
    "units": dict(type=int, help="RNNs: overrides the preset"),
    "rnn": dict(choices=["gru", "lstm"]),
    "bidirectional": dict(
        action=argparse.BooleanOptionalAction,
        help="RNN classifiers: run the RNN both ways",
    ),
    "mask_rate": dict(
        type=float, help="pretraining: the share of words to predict"
    ),
    "objective": dict(
        choices=["mlm", "electra"],
        help="pretraining: masked-language modelling or ELECTRA's "
        "replaced-token detection",
    ),
    "lora_rank": dict(
        type=int,
        help="with --init-from: fine-tune with LoRA updates of this rank "
        "(the encoder's weights stay frozen)",
    ),
    "layer_decay": dict(
        type=float,
        help="Transformer classifiers: multiply each lower encoder block's "
        "learning rate by this (layer-wise decay, e.g. 0.8)",
    ),
    "init_from": dict(
        metavar="RUN",
        help="fine-tune a Transformer classifier from the encoder of a "
        "pretraining run (`attnpred pretrain`), with its tokenizer and sizes",
    ),
}
# Data settings `prepare` uses; the training settings are `train`'s alone.
_PREPARE_FLAGS = (
    "task", "validation_path", "test_path", "validation_fraction",
    "text_column", "label_column", "label_names", "reverse",
    "vocabulary_size", "tokenizer", "max_examples", "seed",
)

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


def _training_config(args, fields=_TRAINING_FLAGS):
    from keras_attnpred.training import TrainingConfig

    values = {}
    if args.config:
        if not os.path.exists(args.config):
            raise CommandError(f"config file not found: {args.config}")
        values.update(TrainingConfig.from_file(args.config).to_dict())
    if getattr(args, "task", None) is not None:
        values["task"] = args.task
    if args.data is not None:
        values["train_path"] = (
            list(args.data) if values.get("task") == "pretraining"
            else _path_value(args.data)
        )
    if getattr(args, "prepared", None) is not None:
        from keras_attnpred.data import PreparedDataset

        values["prepared"] = args.prepared
        values.setdefault("task", PreparedDataset.load(args.prepared).task)
    if values.get("prepared") and values.get("train_path") is None:
        values.pop("train_path", None)
    for field in fields:
        value = getattr(args, field)
        if value is None:
            continue
        if field == "validation_path" and values.get("task") == "pretraining":
            value = list(value)
        elif field in ("validation_path", "test_path"):
            value = _path_value(value)
        elif field in ("text_column", "label_column"):
            value = _column(value)
        elif field == "label_names":
            value = [name.strip() for name in value.split(",")]
        elif field == "bucket_boundaries" and value != "auto":
            try:
                value = [int(b) for b in value.split(",")]
            except ValueError:
                raise CommandError(
                    "--bucket-boundaries must be 'auto' or comma-separated "
                    f"integers. Received: {value!r}"
                ) from None
        elif field == "learning_rate" and value != "transformer":
            try:
                value = float(value)
            except ValueError:
                raise CommandError(
                    "--learning-rate must be a number or 'transformer'. "
                    f"Received: {value!r}"
                ) from None
        values[field] = value
    sha256 = getattr(args, "data_sha256", None)
    if sha256:
        values["train_path"] = _pinned(values.get("train_path"), sha256)
    needed = ("task",) if values.get("prepared") else ("task", "train_path")
    for required in needed:
        if required not in values:
            flag = "--data" if required == "train_path" else f"--{required}"
            raise CommandError(
                f"{flag} is required (or give it in --config, or train on "
                "--prepared data)"
            )
    return TrainingConfig.from_dict(values)


def _pinned(paths, digests):
    """`paths` with `#sha256=HEX` appended, one digest per path."""
    many = isinstance(paths, list)
    listed = paths if many else [paths]
    if paths is None or len(digests) != len(listed):
        raise CommandError(
            "--data-sha256 takes one SHA-256 per --data file. Received: "
            f"{len(digests)} for {0 if paths is None else len(listed)} "
            "file(s)"
        )
    pinned = []
    for path, digest in zip(listed, digests):
        if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF"
                                    for c in digest):
            raise CommandError(
                "--data-sha256 must be 64 hex digits. Received: "
                f"{digest!r}"
            )
        pinned.append(f"{path.split('#sha256=')[0]}#sha256={digest.lower()}")
    return pinned if many else pinned[0]


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


def command_prepare(args):
    from keras_attnpred.training import prepare

    config = _training_config(args, _PREPARE_FLAGS)
    data = prepare(config, args.out, tokenizers_from=args.tokenizers_from)
    print(f"prepared data written to {args.out}")
    max_length = config.max_length or data.default_max_length()
    where = "from the config" if config.max_length else "fitted to the data"
    print(f"max_length: {max_length} ({where})")
    for line in data.describe(max_length):
        print(f"  {line}")


def command_train(args):
    from keras_attnpred.training import train

    config = _training_config(args)
    run = train(config, args.out)
    print(f"run written to {args.out}")
    _print_json(run.metrics)


def command_pretrain(args):
    if args.task not in (None, "pretraining"):
        raise CommandError(
            f"pretrain trains task 'pretraining'. Received: --task {args.task}"
        )
    args.task = "pretraining"
    command_train(args)


def _translation_report(
    run_dir, pairs, max_examples=None, beam_width=1, length_penalty=0.0
):
    from keras_attnpred.decoding import translation_metrics
    from keras_attnpred.inference import Translator

    sources, references = list(pairs.sources), list(pairs.targets)
    if max_examples:
        sources, references = sources[:max_examples], references[:max_examples]
    translator = Translator.load(run_dir)
    hypotheses = translator.translate(
        sources, beam_width=beam_width, length_penalty=length_penalty
    )
    report = translation_metrics(hypotheses, references)
    report.update(beam_width=beam_width, length_penalty=length_penalty)
    return report


def _read_translation_data(paths, reverse):
    from keras_attnpred.data import read_parallel_texts

    pairs = read_parallel_texts(_path_value(paths), default_split="test")
    return pairs.reversed() if reverse else pairs


def command_evaluate(args):
    from keras_attnpred.training import TrainingRun

    _check_run_dir(args.run)
    if (args.data is None) == (args.prepared is None):
        raise CommandError("give one of --data and --prepared")
    run = TrainingRun.load(args.run)
    config = run.config
    if args.prepared is not None:
        from keras_attnpred.data import PreparedDataset

        _check_greedy(args)
        if args.max_examples:
            raise CommandError("--max-examples goes with --data")
        report = run.evaluate(
            PreparedDataset.load(args.prepared), part=args.part
        )
        report.update(part=args.part, prepared=args.prepared)
        _print_json(report)
        return
    if config.task == "pretraining":
        raise CommandError(
            "a pretraining run is evaluated on a prepared folder: --prepared "
            "DIR (`attnpred prepare --task pretraining --tokenizers-from "
            f"{args.run}`)"
        )
    if config.task == "translation":
        pairs = _read_translation_data(args.data, config.reverse)
        if not len(pairs):
            raise CommandError(
                f"{' '.join(args.data)}: no examples to evaluate"
            )
        report = _translation_report(
            args.run, pairs, args.max_examples, args.beam_width,
            args.length_penalty,
        )
        report.update(run.evaluate(pairs))
    else:
        _check_greedy(args)
        from keras_attnpred.data import read_labeled_texts

        if len(args.data) != 1:
            raise CommandError(
                "a classification run is evaluated on one CSV/TSV file, "
                f"got {len(args.data)}: " + " ".join(args.data)
            )
        texts = read_labeled_texts(
            args.data[0],
            text_column=config.text_column,
            label_column=config.label_column,
            label_names=run.label_names,
            default_split="test",
        )
        if not len(texts):
            raise CommandError(f"{args.data[0]}: no examples to evaluate")
        report = run.evaluate(texts)
    _print_json(report)


def command_predict(args):
    _check_run_dir(args.run)
    if _is_translation(args.run):
        from keras_attnpred.inference import Translator

        translator = Translator.load(args.run)
        translations = translator.translate(
            args.texts,
            beam_width=args.beam_width,
            length_penalty=args.length_penalty,
        )
        for source, target in zip(args.texts, translations):
            print(f"{source}\t{target}")
        return
    _check_greedy(args)
    from keras_attnpred.training import TrainingRun

    run = TrainingRun.load(args.run)
    for text, prediction in zip(args.texts, run.predict(args.texts)):
        probability = max(prediction["probabilities"])
        print(f"{prediction['label_name']}\t{probability:.3f}\t{text}")


_PICTURE_FORMATS = {".png": "png", ".html": "html", ".htm": "html"}


def command_explain(args):
    """Draws what the attention of a run looked at, for one text."""
    kind = _PICTURE_FORMATS.get(os.path.splitext(args.out)[1].lower())
    if kind is None:
        raise CommandError(
            f"--out must end in .png or .html. Received: {args.out}"
        )
    _check_run_dir(args.run)
    if _is_translation(args.run):
        from keras_attnpred.inference import Translator

        translator = Translator.load(args.run)
        [translation], [explanation] = translator.translate(
            [args.text], return_attention=True
        )
        if not explanation.source_tokens:
            raise CommandError(f"no source tokens in {args.text!r}")
        _save_explanation(
            explanation, args, kind, translation=translation
        )
        print(f"{translation}\t{args.out}")
        return
    from keras_attnpred.training import TrainingRun

    run = TrainingRun.load(args.run)
    [explanation] = run.classifier.explain([args.text], method=args.method)
    if not explanation.tokens:
        raise CommandError(f"no tokens in {args.text!r}")
    _save_explanation(explanation, args, kind)
    print(
        f"{explanation.label_name}\t{explanation.probability:.3f}\t{args.out}"
    )


def _save_explanation(explanation, args, kind, **html_options):
    if not args.pieces:
        explanation = explanation.merge_subwords()
    if kind == "png":
        explanation.plot(args.out)
    else:
        explanation.to_html(args.out, **html_options)


def command_export(args):
    """Exports a run for TF Serving (SavedModel) and/or TFLite."""
    from keras_attnpred.export import export_run

    _check_run_dir(args.run)
    if args.version is not None and args.version < 1:
        raise CommandError(
            f"--version must be a positive integer. Received: {args.version}"
        )
    written = export_run(
        args.run,
        args.out,
        format=args.format,
        version=args.version,
        batch_size=args.batch_size,
    )
    for kind, path in written.items():
        print(f"{kind}\t{path}")


def command_demo(args):
    """Trains a small translator on the bundled English–Spanish sample."""
    from keras_attnpred.data import ParallelTexts
    from keras_attnpred.inference import Translator
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
    # One picture of what the attention learned.
    _, [alignment] = translator.translate(
        DEMO_SENTENCES[1:2], return_attention=True
    )
    picture = os.path.join(args.out, "alignment.png")
    alignment.merge_subwords().plot(picture)
    print(f"Cross-attention of {DEMO_SENTENCES[1]!r}: {picture}")
    _demo_exports(args.out)


def _add_search_flags(parser):
    parser.add_argument(
        "--beam-width",
        type=int,
        default=1,
        help="translation: hypotheses kept by beam search (default 1: "
        "greedy search)",
    )
    parser.add_argument(
        "--length-penalty",
        type=float,
        default=0.0,
        help="translation: GNMT length penalty alpha of beam search, >= 0 "
        "(default 0; larger favours longer translations)",
    )


def _check_greedy(args):
    if args.beam_width != 1 or args.length_penalty != 0:
        raise CommandError(
            "--beam-width and --length-penalty apply to translation runs only"
        )


def _demo_exports(run_dir):
    """Exports the demo translator and translates through each export."""
    import tensorflow as tf

    from keras_attnpred.export import TFLiteTranslator
    from keras_attnpred.export import export_run

    written = export_run(run_dir, os.path.join(run_dir, "export"))
    sentence = DEMO_SENTENCES[0]
    serve = tf.saved_model.load(written["saved_model"]).signatures[
        "serving_default"
    ]
    served = serve(text=tf.constant([sentence]))["translation"][0]
    mobile = TFLiteTranslator(written["tflite"]).translate([sentence])[0]
    print(f"Exported to {written['saved_model']} (SavedModel, TF Serving) "
          f"and {written['tflite']} (TFLite):")
    print(f"  SavedModel:  {sentence}  ->  {served.numpy().decode()}")
    print(f"  TFLite:      {sentence}  ->  {mobile}")


def _flag(field):
    return "--" + field.replace("_", "-")


def _with_default(field, options):
    """`options` with the `TrainingConfig` default named in the help."""
    from keras_attnpred.training import TrainingConfig

    defaults = TrainingConfig.defaults()
    help_text = options.get("help", "")
    if field in defaults and "default" not in help_text:
        default = defaults[field]
        shown = "none" if default is None else str(default).replace("%", "%%")
        help_text = f"{help_text} (default: {shown})".strip()
    return dict(options, help=help_text)


def _add_download_flags(parser):
    parser.add_argument(
        "--data-sha256",
        nargs="+",
        metavar="HEX",
        help="the SHA-256 of each --data file, checked before it is read "
        "(in a config file: PATH#sha256=HEX)",
    )
    parser.add_argument(
        "--max-download-mb",
        type=float,
        help="refuse URL downloads of more megabytes than this "
        "(default: 10240)",
    )


def _add_training_arguments(parser, data_help, prepared_help):
    """The options `train` and `pretrain` share."""
    parser.add_argument(
        "--config", help="YAML or JSON file of training settings"
    )
    parser.add_argument("--data", nargs="+", metavar="PATH", help=data_help)
    parser.add_argument("--prepared", metavar="DIR", help=prepared_help)
    parser.add_argument("--out", required=True, help="run directory")
    _add_download_flags(parser)
    for field, options in _TRAINING_FLAGS.items():
        parser.add_argument(
            _flag(field), dest=field, **_with_default(field, options)
        )


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
    _add_training_arguments(
        train_parser,
        data_help="training data: a CSV/TSV file (or URL), two aligned "
        "files, or a TensorFlow Datasets split tfds:NAME[:SPLIT] (e.g. "
        "tfds:imdb_reviews; needs tensorflow-datasets)",
        prepared_help="train on the token ids of `attnpred prepare` (any "
        "Keras backend, no TensorFlow needed); its data settings apply",
    )
    train_parser.set_defaults(handler=command_train)

    pretrain_parser = commands.add_parser(
        "pretrain",
        help="pretrain a Transformer encoder on unlabelled texts",
        description="Masked-language-model pretraining (BERT: whole-word "
        "masking, 80/10/10) of a Transformer encoder on unlabelled texts: "
        "`attnpred train --task pretraining`. Fine-tune the result with "
        "`attnpred train --init-from RUN`.",
    )
    _add_training_arguments(
        pretrain_parser,
        data_help="the corpus: text files (one text a line) or CSV/TSV "
        "files (their --text-column), read as one",
        prepared_help="pretrain on the token ids of `attnpred prepare "
        "--task pretraining`",
    )
    pretrain_parser.set_defaults(handler=command_pretrain)

    prepare_parser = commands.add_parser(
        "prepare",
        help="read a dataset, learn its tokenizer(s) and write its token ids",
        description="Reads the data settings of --config and the flags, "
        "learns the tokenizer(s) on the training part (or takes those of "
        "--tokenizers-from) and writes a folder that `attnpred train "
        "--prepared` trains on, on any Keras backend.",
    )
    prepare_parser.add_argument(
        "--config", help="YAML or JSON file (its data settings are used)"
    )
    prepare_parser.add_argument(
        "--data", nargs="+", metavar="PATH", help="training data, as for train"
    )
    prepare_parser.add_argument(
        "--tokenizers-from",
        metavar="DIR",
        help="reuse the tokenizer(s) of a run or prepared folder",
    )
    prepare_parser.add_argument(
        "--out", required=True, help="the folder to write"
    )
    _add_download_flags(prepare_parser)
    for field in _PREPARE_FLAGS:
        prepare_parser.add_argument(
            _flag(field), dest=field,
            **_with_default(field, _TRAINING_FLAGS.get(field, dict(type=int))),
        )
    prepare_parser.set_defaults(handler=command_prepare)

    evaluate_parser = commands.add_parser(
        "evaluate", help="evaluate a trained run on labelled data"
    )
    evaluate_parser.add_argument("run", help="run directory")
    evaluate_parser.add_argument(
        "--data",
        nargs="+",
        metavar="PATH",
        help="test data: a CSV/TSV file (or URL), two aligned files, or "
        "tfds:NAME[:SPLIT] (split default: test)",
    )
    evaluate_parser.add_argument(
        "--prepared",
        metavar="DIR",
        help="instead of --data: a folder of `attnpred prepare` made with "
        "the run's tokenizers (loss and accuracy, no TensorFlow needed)",
    )
    evaluate_parser.add_argument(
        "--part", default="test", help="the part of --prepared (default: test)"
    )
    evaluate_parser.add_argument(
        "--max-examples",
        type=_positive_int,
        help="translation: score only the first N pairs with BLEU/chrF",
    )
    _add_search_flags(evaluate_parser)
    evaluate_parser.set_defaults(handler=command_evaluate)

    predict_parser = commands.add_parser(
        "predict", help="classify or translate texts with a trained run"
    )
    predict_parser.add_argument("run", help="run directory")
    predict_parser.add_argument("texts", nargs="+", help="texts")
    _add_search_flags(predict_parser)
    predict_parser.set_defaults(handler=command_predict)

    explain_parser = commands.add_parser(
        "explain",
        help="draw what a trained run's attention looked at, for one text",
        description="Translation runs: the cross-attention between the "
        "source words and the generated words (averaged over layers and "
        "heads). Classification runs: the importance of each word, with the "
        "predicted label. The picture is a heatmap (.png) or a page that "
        "highlights the words (.html).",
    )
    explain_parser.add_argument("run", help="run directory")
    explain_parser.add_argument(
        "text", help="the text to translate or classify"
    )
    explain_parser.add_argument(
        "--out", required=True, help="the picture: FILE.png or FILE.html"
    )
    explain_parser.add_argument(
        "--method",
        choices=["auto", "pooling", "rollout"],
        default="auto",
        help="classification runs: attention-pooling weights, or attention "
        "rollout through a Transformer's layers (default: pooling where the "
        "model has attention pooling)",
    )
    explain_parser.add_argument(
        "--pieces",
        action="store_true",
        help="show the WordPiece pieces instead of merging them into words",
    )
    explain_parser.set_defaults(handler=command_explain)
    export_parser = commands.add_parser(
        "export",
        help="export a run for TF Serving (SavedModel) and TFLite",
        description="Writes BASE/VERSION/ (a SavedModel for TF Serving, "
        "tokenizer inside, with warmup requests) and BASE/tflite/VERSION/ "
        "(TFLite models with built-in ops: a classifier in float32, float16, "
        "dynamic-range int8 and full int8 plus a raw-text model, or a "
        "translator's encoder and cached decoder step). A version is written "
        "to a temporary folder and renamed into place; existing versions "
        "are never overwritten.",
    )
    export_parser.add_argument("run", help="run directory")
    export_parser.add_argument(
        "--out", required=True, metavar="BASE", help="the model's base folder"
    )
    export_parser.add_argument(
        "--format",
        choices=["saved_model", "tflite", "both"],
        default="both",
        help="what to write (default: both)",
    )
    export_parser.add_argument(
        "--version",
        type=int,
        help="version number (default: one more than the largest in BASE)",
    )
    export_parser.add_argument(
        "--batch-size",
        type=int,
        default=1,
        help="fixed batch size of the TFLite models (default: 1)",
    )
    export_parser.set_defaults(handler=command_export)

    demo_parser = commands.add_parser(
        "demo", help="train, evaluate and use a translator on bundled data"
    )
    demo_parser.add_argument("--out", default=os.path.join("runs", "demo"))
    demo_parser.add_argument("--epochs", type=int, default=8)
    demo_parser.set_defaults(handler=command_demo)
    return parser


def _download_limit(args):
    import contextlib

    limit = getattr(args, "max_download_mb", None)
    if limit is None:
        return contextlib.nullcontext()
    from keras_attnpred.data import text_file

    return text_file.download_limit(limit)


def _is_expected(error):
    """Whether `error` is the user's to fix, reported in one line."""
    # ModuleNotFoundError: an optional package (sentencepiece,
    # tensorflow-datasets) that the command needs is missing.
    if isinstance(
        error, (CommandError, ValueError, OSError, ModuleNotFoundError)
    ):
        return True
    # TensorFlow's ResourceExhaustedError when the disk fills up.
    from keras_attnpred._atomic_files import is_disk_full

    if is_disk_full(error):
        return True
    # Looked up rather than imported: `--help` must not load TensorFlow.
    module = sys.modules.get("keras_attnpred.training.training_diverged_error")
    return module is not None and isinstance(
        error, module.TrainingDivergedError
    )


def _name_the_folder(error, message, args):
    """A full disk that names no file gets the folder being written."""
    from keras_attnpred._atomic_files import is_disk_full

    out = getattr(args, "out", None)
    if out and is_disk_full(error) and getattr(error, "filename", None) is None:
        return f"No space left on device while writing into {out}: {message}"
    return message


def main(argv=None):
    # TensorFlow's C++ start-up chatter buries the command's own output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        with _download_limit(args):
            args.handler(args)
    except Exception as error:
        if not _is_expected(error) or os.environ.get("ATTNPRED_DEBUG"):
            raise
        message = " ".join(str(error).split())
        message = _name_the_folder(error, message, args)
        print(f"attnpred {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
