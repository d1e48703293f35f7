"""The `attnpred` command line: train, evaluate, predict, explain, demo.

    attnpred train --task translation --data pairs.tsv --out runs/en-es
    attnpred train --config run.yaml --epochs 3 --out runs/r1   # flags win
    attnpred prepare --config run.yaml --out prepared/imdb   # tokenize once
    attnpred train --config run.yaml --prepared prepared/imdb --out runs/imdb
    attnpred evaluate runs/imdb --prepared prepared/imdb     # its test part
    attnpred train --task sentiment --data tfds:imdb_reviews --tokenizer sentencepiece --out runs/imdb
    attnpred evaluate runs/en-es --data test.tsv
    attnpred predict runs/en-es "How are you?" "I like tea."
    attnpred predict runs/en-es --beam-width 4 --length-penalty 0.6 "Hi."
    cat texts.txt | attnpred predict runs/reviews - --format jsonl
    attnpred evaluate runs/reviews --data test.csv --weights last --plots plots
    attnpred explain runs/en-es "How are you?" --out alignment.png
    attnpred explain runs/imdb "Great film." "Dull." --out page.html --interactive
    attnpred export runs/en-es --out exports/en-es     # TF Serving + TFLite
    attnpred tune --config run.yaml --space space.yaml --trials 20 --out tuning/r1
    attnpred demo                                       # the bundled example

Expected errors (bad flags, bad files, bad values, a training loss that
became NaN) print one line and exit with status 2; set ATTNPRED_DEBUG=1 to
see the traceback. TensorFlow's start-up lines are hidden unless
`--verbose`; parsing the arguments loads neither Keras nor TensorFlow.
"""

import argparse
import json
import os
import sys

# Flags that map one to one onto `TrainingConfig` fields, with their parsers.
_TRAINING_FLAGS = {
    "task": dict(
        choices=["translation", "classification", "sentiment", "pretraining"],
        help="required (here or in --config)",
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
    "validation_fraction": dict(
        type=float, help="share of the training data held out without "
        "--validation-path"
    ),
    "text_column": dict(help="column name or index of the text"),
    "label_column": dict(help="column name or index of the label"),
    "label_names": dict(
        help="comma-separated class names, in id order (default: from the "
        "data: the labels sorted, or 0..N-1 for integer labels; sentiment "
        "0/1 are negative/positive)"
    ),
    "delimiter": dict(
        metavar="CHAR",
        help="field delimiter of CSV files (default: a tab for .tsv files, "
        "else detected from the header line: ',', ';' or a tab)",
    ),
    "reverse": dict(
        action="store_true", default=None, help="translate target to source"
    ),
    "max_length": dict(
        type=int,
        help="tokens kept per text (default: from the data: the 95th "
        "percentile of the training lengths for classification, the longest "
        "pair for translation, a multiple of 8, at most 512 / 256)",
    ),
    "head_tokens": dict(
        type=int,
        help="classification: longer texts keep this many opening tokens "
        "and the end (default: the opening max-length tokens)",
    ),
    "vocabulary_size": dict(
        type=int,
        help="the largest vocabulary of each tokenizer; a small training "
        "set may give fewer pieces",
    ),
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
    "flash_attention": dict(
        action=argparse.BooleanOptionalAction,
        help="--no-flash-attention trains without fused attention kernels "
        "(cuDNN's included)",
    ),
    "strategy": dict(
        choices=["auto", "one-device", "mirrored", "multi-worker", "tpu"]
    ),
    "seed": dict(type=int),
    "early_stopping_patience": dict(type=int),
    "time_limit": dict(
        type=float,
        metavar="SECONDS",
        help="stop after the epoch past which another would end later than "
        "this many seconds after training started (the run is saved)",
    ),
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
    "dropout": dict(
        type=float, help="(default: the preset's for Transformers, 0 for RNNs)"
    ),
    "activation_dropout": dict(
        type=float,
        help="Transformers: dropout inside the feed-forward blocks (default: "
        "none)",
    ),
    "embedding_dim": dict(
        type=int, help="RNNs: overrides the preset (default: the preset's)"
    ),
    "units": dict(
        type=int, help="RNNs: overrides the preset (default: the preset's)"
    ),
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
    "pack_texts": dict(
        action=argparse.BooleanOptionalAction,
        help="pretraining: rows of max_length consecutive ids of the texts "
        "joined, instead of one text a row (no padding, one batch shape)",
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
    "attention_maps": dict(
        type=int,
        metavar="N",
        help="after every epoch, draw the attention of N validation texts "
        "(and a classifier's validation confusion matrix) into TensorBoard's "
        "Images tab, logs/attention/ and logs/confusion_matrix/ (needs "
        "TensorFlow and matplotlib)",
    ),
    "init_from": dict(
        metavar="RUN",
        help="fine-tune a Transformer classifier from the encoder of a "
        "pretraining run (`attnpred pretrain`), with its tokenizer and sizes",
    ),
    "teacher": dict(
        metavar="RUN",
        help="distil a finished run of the same task into this model (its "
        "tokenizer, classes and at most its max length; `attnpred "
        "distill`)",
    ),
    "distillation_temperature": dict(
        type=float,
        help="classifiers with --teacher: softmax temperature of the soft "
        "targets",
    ),
    "distillation_alpha": dict(
        type=float,
        help="classifiers with --teacher: weight of the teacher's term in "
        "[0, 1], the labels' is 1 - alpha",
    ),
    "distillation_attention_weight": dict(
        type=float,
        help="Transformer classifiers with --teacher: weight of the "
        "last-layer self-attention transfer (MiniLM)",
    ),
    "distillation_beam_width": dict(
        type=int,
        help="translators with --teacher: beam of the teacher's "
        "translations of the training sources",
    ),
    "distillation_keep_references": dict(
        action="store_true", default=None,
        help="translators with --teacher: train on the references too",
    ),
    "unlabeled_path": dict(
        nargs="+", metavar="PATH",
        help="classifiers with --teacher: unlabelled texts the student "
        "learns from the teacher alone (CSV/TSV column or one text a line)",
    ),
    "unlabeled_text_column": dict(
        help="column name or index of the texts of --unlabeled-path"
    ),
}
# Data settings `prepare` uses; the training settings are `train`'s alone.
_PREPARE_FLAGS = (
    "task", "validation_path", "test_path", "validation_fraction",
    "text_column", "label_column", "label_names", "delimiter", "reverse",
    "vocabulary_size", "tokenizer", "max_examples", "seed",
    "unlabeled_path", "unlabeled_text_column",
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


def _training_config(args, fields=_TRAINING_FLAGS, base=None):
    """The `TrainingConfig` of `--config` and the flags, on top of `base`
    (settings that neither gives, e.g. a teacher's data)."""
    from keras_attnpred.training import TrainingConfig

    values = dict(base or {})
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
        elif field in ("text_column", "label_column",
                       "unlabeled_text_column"):
            value = _column(value)
        elif field == "unlabeled_path":
            value = value[0] if len(value) == 1 else list(value)
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


def _start_framework(args):
    """Imports Keras (and TensorFlow or JAX), without their start-up lines
    unless --verbose. Each command calls it after the checks that need
    neither, so that those fail at once."""
    from keras_attnpred.quiet import quiet_framework_start

    quiet_framework_start(verbose=args.verbose)


def command_prepare(args):
    config = _training_config(args, _PREPARE_FLAGS)
    _start_framework(args)
    from keras_attnpred.training import prepare

    data = prepare(config, args.out, tokenizers_from=args.tokenizers_from)
    print(f"prepared data written to {args.out}")
    max_length = config.max_length or data.default_max_length()
    where = "from the config" if config.max_length else "fitted to the data"
    print(f"max_length: {max_length} ({where})")
    for line in data.describe(max_length):
        print(f"  {line}")


def command_train(args):
    config = _training_config(args)
    _start_framework(args)
    from keras_attnpred.training import train

    run = train(config, args.out, overwrite=args.overwrite)
    print(f"run written to {args.out}")
    _print_json(run.metrics)


def command_pretrain(args):
    if args.task not in (None, "pretraining"):
        raise CommandError(
            f"pretrain trains task 'pretraining'. Received: --task {args.task}"
        )
    args.task = "pretraining"
    command_train(args)


def command_tune(args):
    if not os.path.exists(args.space):
        raise CommandError(f"space file not found: {args.space}")
    from keras_attnpred.training import SearchSpace

    space = SearchSpace.from_file(args.space)
    config = _training_config(args, fields=())
    _start_framework(args)
    from keras_attnpred.training import tune

    # One line an epoch (no progress bars) and KerasTuner's trial summaries.
    results = tune(
        config, space, args.out, algorithm=args.algorithm,
        trials=args.trials, objective=args.objective,
        overwrite=args.overwrite, verbose=2,
        bleu_examples=args.bleu_examples,
    )
    if results is None:
        print("worker done: the chief writes the results")
        return
    print(f"search written to {args.out}: "
          f"{results['trials_completed']} trials completed")
    if results["best_trial"] is not None:
        print(f"best trial {results['best_trial']}: {args.objective} "
              f"{results['best_score']:.6g}, run {results['best_run']}")
        print(f"train it again: attnpred train --config "
              f"{os.path.join(args.out, 'best.yaml')} --out runs/best")
    _print_json({key: results[key] for key in
                 ("best_trial", "best_score", "best_values", "files")})

# The data settings a student takes from its teacher's run when the command
# gives no data of its own.
_TEACHER_DATA_FIELDS = (
    "task", "train_path", "validation_path", "test_path",
    "validation_fraction", "text_column", "label_column", "label_names",
    "delimiter", "reverse", "max_examples", "seed", "head_tokens",
)
_STUDENT_PRESETS = ("tiny", "small", "base", "large")


def command_distill(args):
    """`train --teacher RUN` with the student's preset or configuration;
    a preset student trains on the teacher's data unless given other."""
    _check_run_dir(args.teacher_run)
    if args.teacher is not None and args.teacher != args.teacher_run:
        raise CommandError(
            f"--teacher {args.teacher} contradicts the teacher "
            f"{args.teacher_run}: give it once"
        )
    args.teacher = args.teacher_run
    student = args.student
    base = None
    if student in _STUDENT_PRESETS:
        if args.preset is not None and args.preset != student:
            raise CommandError(
                f"--preset {args.preset} contradicts --student {student}"
            )
        args.preset = student
        if args.config is None and not (args.data or args.prepared):
            base = _teacher_data(args.teacher_run)
    elif os.path.splitext(student)[1].lower() in (".yaml", ".yml", ".json"):
        if args.config is not None:
            raise CommandError(
                "--student names the configuration file: leave out --config"
            )
        args.config = student
    else:
        raise CommandError(
            f"--student must be a preset ({', '.join(_STUDENT_PRESETS)}) or "
            f"a .yaml/.json configuration. Received: {student!r}"
        )
    config = _training_config(args, base=base)
    _start_framework(args)
    from keras_attnpred.training import train

    run = train(config, args.out, overwrite=args.overwrite)
    print(f"run written to {args.out}")
    _print_json(run.metrics)


def _teacher_data(run_dir):
    """The data settings of the teacher's run (`config.json`)."""
    try:
        with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
            teacher = json.load(f)
    except (OSError, ValueError) as error:
        raise CommandError(
            f"cannot read the teacher's configuration: {error}"
        ) from None
    return {
        field: teacher[field]
        for field in _TEACHER_DATA_FIELDS
        if isinstance(teacher, dict) and teacher.get(field) is not None
    }


def _translation_report(
    translator, pairs, max_examples=None, beam_width=1, length_penalty=0.0
):
    from keras_attnpred.decoding import translation_metrics

    sources, references = list(pairs.sources), list(pairs.targets)
    if max_examples:
        sources, references = sources[:max_examples], references[:max_examples]
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


def _label_names(text):
    return [name.strip() for name in text.split(",")]


def _check_classification_options(args, config, options):
    """Refuses the column and label options for a run that is not a
    classifier."""
    if config.is_classification:
        return
    given = [option for option in options
             if getattr(args, option.lstrip("-").replace("-", "_")) is not None]
    if given:
        raise CommandError(
            f"{', '.join(given)} apply to classification runs; this is a "
            f"{config.task} run"
        )


def _read_test_texts(args, run):
    """The labelled texts of `evaluate --data`, read with the run's columns
    and delimiter unless the flags give others."""
    from keras_attnpred.data import LabeledTexts
    from keras_attnpred.data import read_labeled_texts

    config = run.config
    if len(args.data) != 1:
        raise CommandError(
            "a classification run is evaluated on one CSV/TSV file, "
            f"got {len(args.data)}: " + " ".join(args.data)
        )
    # The file may name the run's classes its own way: `--label-names`
    # gives them in the run's class order.
    names = run.label_names
    if args.label_names is not None:
        names = _label_names(args.label_names)
        if len(names) != len(run.label_names):
            raise CommandError(
                f"--label-names must name the run's {len(run.label_names)} "
                f"classes ({','.join(run.label_names)}), in that order. "
                f"Received: {args.label_names!r}"
            )
    texts = read_labeled_texts(
        args.data[0],
        text_column=_column(args.text_column) if args.text_column is not None
        else config.text_column,
        label_column=_column(args.label_column)
        if args.label_column is not None else config.label_column,
        label_names=names,
        default_split="test",
        delimiter=args.delimiter or config.delimiter,
    )
    if not len(texts):
        raise CommandError(f"{args.data[0]}: no examples to evaluate")
    return LabeledTexts(texts.texts, texts.labels, run.label_names)


def command_evaluate(args):
    _check_run_dir(args.run)
    if (args.data is None) == (args.prepared is None):
        raise CommandError("give one of --data and --prepared")
    _start_framework(args)
    from keras_attnpred.training import TrainingRun

    run = TrainingRun.load(args.run, weights=args.weights)
    config = run.config
    _check_classification_options(
        args, config,
        ("--text-column", "--label-column", "--delimiter", "--label-names",
         "--plots"),
    )
    if args.prepared is not None:
        from keras_attnpred.data import PreparedDataset

        _check_greedy(args)
        if args.max_examples:
            raise CommandError("--max-examples goes with --data")
        given = [flag for flag in ("text_column", "label_column",
                                   "delimiter", "label_names")
                 if getattr(args, flag) is not None]
        if given:
            raise CommandError(
                f"--{given[0].replace('_', '-')} goes with --data: a "
                "prepared folder holds token ids"
            )
        data = PreparedDataset.load(args.prepared)
        report = run.evaluate(data, part=args.part)
        if config.is_classification:
            report.update(_classification_report(args, run, data, args.part))
        report.update(part=args.part, prepared=args.prepared,
                      weights=run.weights_kept)
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
            run.translator, pairs, args.max_examples, args.beam_width,
            args.length_penalty,
        )
        report.update(run.evaluate(pairs))
    else:
        _check_greedy(args)
        texts = _read_test_texts(args, run)
        report = run.evaluate(texts)
        report.update(_classification_report(args, run, texts))
    report["weights"] = run.weights_kept
    _print_json(report)


def _classification_report(args, run, data, part="test"):
    """Per-class precision, recall and F1, macro-F1 and the confusion
    matrix; with --plots, the matrix as DIR/confusion_matrix.png."""
    report = run.classification_report(data, part=part)
    del report["accuracy"]  # `evaluate`'s is already in the report
    if args.plots is not None:
        from keras_attnpred.inference import confusion_matrix_png

        os.makedirs(args.plots, exist_ok=True)
        path = os.path.join(args.plots, "confusion_matrix.png")
        matrix = report["confusion_matrix"]
        confusion_matrix_png(
            matrix["matrix"], matrix["labels"], path=path,
            title=f"{os.path.basename(os.path.normpath(args.run))}: "
            f"confusion matrix",
        )
        report["plots"] = [path]
    return report


# Texts predicted between two updates of the progress bar, in batches.
_BATCHES_PER_CHUNK = 16
_TABLE_NAMES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")


def _predict_texts(args, config):
    """The texts of `predict`: the arguments, standard input (`-`) or
    `--input FILE`; one a line, or a CSV/TSV column (`--text-column`, or a
    `.csv`/`.tsv` file, whose column defaults to the run's)."""
    from keras_attnpred.data import text_file

    if args.texts == ["-"]:
        args.texts, args.input = [], "-"
    if args.input is not None and args.texts:
        raise CommandError("give texts or --input, not both")
    if args.input is None:
        if not args.texts:
            raise CommandError(
                "give texts, - to read them from standard input, or "
                "--input FILE"
            )
        if args.text_column is not None or args.delimiter is not None:
            raise CommandError(
                "--text-column and --delimiter go with --input or -"
            )
        return list(args.texts)
    table = args.text_column is not None or (
        args.input != "-" and args.input.lower().endswith(_TABLE_NAMES)
    )
    if args.input == "-":
        name = "standard input"
        try:
            lines = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise CommandError(
                f"standard input is not valid UTF-8 ({error})"
            ) from None
        lines = lines.removeprefix("\ufeff").splitlines(keepends=True)
    else:
        with text_file.open_lines(args.input) as (name, decoded):
            lines = list(decoded)
    if not table:
        return [line.rstrip("\n").removesuffix("\r") for line in lines]
    column = (
        _column(args.text_column) if args.text_column is not None
        else config.text_column
    )
    rows = text_file.parse_delimited(name, lines, args.delimiter)
    rows, width, (index,) = text_file.split_header(
        name, rows, True, {"text_column": column}
    )
    texts = []
    for line, fields in rows:
        if len(fields) != width:
            raise CommandError(
                f"{name}, line {line}: expected {width} fields, found "
                f"{len(fields)}."
            )
        texts.append(fields[index])
    return texts


class _Progress:
    """A progress bar on stderr, for inputs of more than one chunk."""

    WIDTH = 30

    def __init__(self, total, shown):
        self.total, self.shown, self.done = total, shown, 0

    def update(self, count):
        self.done += count
        if not self.shown:
            return
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        end = "\n" if self.done >= self.total else ""
        print(f"\r[{bar}] {self.done:,}/{self.total:,} texts", end=end,
              file=sys.stderr, flush=True)


class _PredictionWriter:
    """Writes predictions to stdout as text (tab-separated), JSON lines or
    CSV."""

    def __init__(self, kind, columns):
        import csv

        self.kind, self.columns = kind, columns
        self.csv = csv.writer(sys.stdout, lineterminator="\n")
        if kind == "csv":
            self.csv.writerow(columns)

    def write(self, values, text_fields):
        if self.kind == "jsonl":
            print(json.dumps(dict(zip(self.columns, values)),
                             ensure_ascii=False))
        elif self.kind == "csv":
            self.csv.writerow(values)
        else:
            print("\t".join(text_fields))


def command_predict(args):
    _check_run_dir(args.run)
    _start_framework(args)
    from keras_attnpred.training.training_run import read_run_config

    config = read_run_config(args.run)
    if config.task == "pretraining":
        raise CommandError(
            "a pretraining run does not predict: fine-tune it first "
            f"(`attnpred train --init-from {args.run}`)"
        )
    _check_classification_options(args, config, ("--label-names",))
    texts = _predict_texts(args, config)
    translation = config.task == "translation"
    if not translation:
        _check_greedy(args)
    from keras_attnpred.training import TrainingRun

    run = TrainingRun.load(args.run, weights=args.weights)
    _say_weights(args, run)
    batch_size = args.batch_size or (64 if translation else config.batch_size)
    chunk = batch_size * _BATCHES_PER_CHUNK
    progress = _Progress(len(texts), shown=len(texts) > chunk)
    if translation:
        translator = run.translator
        writer = _PredictionWriter(args.format, ["text", "translation"])
    else:
        classifier = run.classifier
        names = list(run.label_names)
        if args.label_names is not None:
            names = _label_names(args.label_names)
            if len(names) != len(run.label_names):
                raise CommandError(
                    f"--label-names must name the run's "
                    f"{len(run.label_names)} classes, in order. Received: "
                    f"{args.label_names!r}"
                )
        # JSON lines also give every class's probability.
        writer = _PredictionWriter(
            args.format, ["text", "label", "probability"]
            + (["probabilities"] if args.format == "jsonl" else [])
        )
    for start in range(0, len(texts), chunk):
        part = texts[start:start + chunk]
        if translation:
            translations = translator.translate(
                part,
                batch_size=batch_size,
                beam_width=args.beam_width,
                length_penalty=args.length_penalty,
            )
            for text, translation_text in zip(part, translations):
                writer.write([text, translation_text],
                             [text, translation_text])
        else:
            probabilities = classifier.predict_proba(
                part, batch_size=batch_size
            )
            for text, row in zip(part, probabilities):
                label = int(row.argmax())
                probability = float(row[label])
                values = [text, names[label], probability]
                if args.format == "jsonl":
                    values.append(
                        {name: float(p) for name, p in zip(names, row)}
                    )
                writer.write(
                    values, [names[label], f"{probability:.3f}", text]
                )
        sys.stdout.flush()
        progress.update(len(part))


_PICTURE_FORMATS = {".png": "png", ".html": "html", ".htm": "html"}


def command_explain(args):
    """Draws what the attention of a run looked at, for one text (or, with
    --interactive, a page of every layer and head for several)."""
    kind = _PICTURE_FORMATS.get(os.path.splitext(args.out)[1].lower())
    if args.interactive and kind != "html":
        raise CommandError(
            f"--interactive writes a page: --out must end in .html. "
            f"Received: --out {args.out}"
        )
    if kind is None:
        raise CommandError(
            f"--out must end in .png or .html. Received: {args.out}"
        )
    if len(args.text) > 1 and not args.interactive:
        raise CommandError(
            "one text per picture; several texts need --interactive. "
            f"Received: {len(args.text)} texts"
        )
    if args.interactive and args.pieces:
        raise CommandError(
            "--pieces does not go with --interactive: the page switches "
            "between words and pieces itself"
        )
    _check_run_dir(args.run)
    _start_framework(args)
    from keras_attnpred.training import TrainingRun

    run = TrainingRun.load(args.run, weights=args.weights)
    _say_weights(args, run)
    if not run.config.is_translation:
        _check_greedy(args)
    if args.interactive:
        _explore(run, args)
        return
    [text] = args.text
    if run.config.is_translation:
        [translation], [explanation] = run.translator.translate(
            [text], return_attention=True, beam_width=args.beam_width,
            length_penalty=args.length_penalty,
        )
        if not explanation.source_tokens:
            raise CommandError(f"no source tokens in {text!r}")
        _save_explanation(
            explanation, args, kind, translation=translation
        )
        print(f"{translation}\t{args.out}")
        return
    [explanation] = run.classifier.explain([text], method=args.method)
    if not explanation.tokens:
        raise CommandError(f"no tokens in {text!r}")
    _save_explanation(explanation, args, kind)
    print(
        f"{explanation.label_name}\t{explanation.probability:.3f}\t{args.out}"
    )


def _explore(run, args):
    """Writes the AttentionExplorer page of `args.text` and prints a line
    per text (per translation and search)."""
    from keras_attnpred.explain import AttentionExplorer

    explorer = AttentionExplorer(title=f"Attention of {args.run}")
    if run.config.is_translation:
        searches = [("greedy", 1, 0.0)]
        if args.beam_width > 1 or args.length_penalty > 0:
            searches.append((
                f"beam search, width {args.beam_width}, length penalty "
                f"{args.length_penalty:g}",
                args.beam_width, args.length_penalty,
            ))
        for name, beam_width, length_penalty in searches:
            translations, alignments = run.translator.translate(
                args.text, return_attention=True, beam_width=beam_width,
                length_penalty=length_penalty,
            )
            for text, translation, alignment in zip(
                args.text, translations, alignments
            ):
                explorer.add_translation(alignment, text=text,
                                         translation=translation,
                                         search=name)
                print(f"{name}\t{text}\t{translation}")
    else:
        explanations = run.classifier.explain(
            args.text, method=args.method, return_attention=True
        )
        for text, explanation in zip(args.text, explanations):
            explorer.add_classification(explanation, text=text)
            print(f"{explanation.label_name}\t"
                  f"{explanation.probability:.3f}\t{text}")
    explorer.to_html(args.out)
    print(args.out)


def _save_explanation(explanation, args, kind, **html_options):
    if not args.pieces:
        explanation = explanation.merge_subwords()
    if kind == "png":
        explanation.plot(args.out)
    else:
        explanation.to_html(args.out, **html_options)


def command_export(args):
    """Exports a run for TF Serving (SavedModel) and/or TFLite."""
    _check_run_dir(args.run)
    if args.version is not None and args.version < 1:
        raise CommandError(
            f"--version must be a positive integer. Received: {args.version}"
        )
    _start_framework(args)
    from keras_attnpred.export import export_run
    from keras_attnpred.training import TrainingRun

    run = TrainingRun.load(args.run, weights=args.weights)
    written = export_run(
        run,
        args.out,
        format=args.format,
        version=args.version,
        batch_size=args.batch_size,
        quantizations=args.quantizations,
    )
    for kind, path in written.items():
        print(f"{kind}\t{path}")
    print(f"weights\t{_weights_text(run.weights_kept)}")


def command_demo(args):
    """Trains a small translator on the bundled English–Spanish sample."""
    _start_framework(args)
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
    run = train(config, args.out, overwrite=args.overwrite)
    test = ParallelTexts.from_tsv(_resource("spa_eng_test.tsv.gz"))
    report = _translation_report(run.translator, test)
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


def _add_weights_flag(parser):
    parser.add_argument(
        "--weights",
        choices=["best", "last"],
        default="best",
        help="best: the run's model, of the validation-best epoch (or its "
        "checkpoint average); last: the last epoch's (default: best)",
    )


def _weights_text(record):
    """`record` (`TrainingRun.weights_kept`) in words."""
    kept = record.get("kept")
    if kept == "average":
        first, last = record["epochs"]
        return f"average of epochs {first}-{last}"
    if kept in ("best", "last"):
        text = f"{kept} epoch, {record.get('epoch')}"
        if kept == "best" and record.get("value") is not None:
            text += f" ({record['monitor']} {record['value']:.4g})"
        return text
    return "as saved (a run of an earlier version)"


def _say_weights(args, run):
    """With --verbose, which epoch's model a command uses, on stderr."""
    if args.verbose:
        print(f"attnpred {args.command}: model: "
              f"{_weights_text(run.weights_kept)}", file=sys.stderr)


def _add_overwrite_flag(parser):
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a finished run in --out (without it that is an error; "
        "an interrupted run resumes either way)",
    )


def _add_delimiter_flag(parser):
    parser.add_argument(
        "--delimiter",
        metavar="CHAR",
        help="field delimiter of a CSV file (default: the run's; else a tab "
        "for .tsv files and otherwise detected from the header line: ',', "
        "';' or a tab)",
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
        "(in a config file: PATH#sha256=HEX; default: not checked)",
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
        "--config",
        help="YAML or JSON file of training settings; flags override it "
        "(default: none)",
    )
    parser.add_argument(
        "--data", nargs="+", metavar="PATH",
        help=data_help + " (required here, in --config or by --prepared)",
    )
    parser.add_argument(
        "--prepared", metavar="DIR", help=prepared_help + " (default: none)"
    )
    parser.add_argument(
        "--out", required=True, help="run directory (required)"
    )
    _add_overwrite_flag(parser)
    _add_download_flags(parser)
    for field, options in _TRAINING_FLAGS.items():
        parser.add_argument(
            _flag(field), dest=field, **_with_default(field, options)
        )


def _common_options():
    """The options every command takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's and absl's start-up lines and log messages "
        "(hidden by default)",
    )
    return common


def build_parser():
    from keras_attnpred import __version__

    parser = argparse.ArgumentParser(
        prog="attnpred",
        description="Train, evaluate and use attention models for "
        "translation, text classification and sentiment.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = _Commands(
        parser.add_subparsers(dest="command", required=True),
        _common_options(),
    )

    train_parser = commands.add_parser(
        "train",
        help="train a model into a run directory",
        description="Trains a translator, a classifier or a sentiment model "
        "into a run directory. Every option shows its default; the ones "
        "marked 'from the data' are fitted to the training data, and the "
        "run records the value used (config.json).",
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

    tune_parser = commands.add_parser(
        "tune",
        help="search training settings with KerasTuner, a run per trial",
        description="Hyper-parameter search: trains the --config "
        "configuration with the values of each trial of --space (a YAML of "
        "TrainingConfig fields: a list of choices, {min, max} ranges with "
        "optional step and log: true, and `when: {model: rnn}` for fields "
        "of one kind) into OUT/trials/ID, on a prepared folder (made once "
        "into OUT/prepared without --prepared). Writes OUT/results.csv, "
        "OUT/results.json, OUT/objective.png and OUT/best.yaml (for "
        "`attnpred train --config`). Rerun the same command to continue an "
        "interrupted search. Distributed: set KERASTUNER_TUNER_ID (chief, "
        "tuner0, ...), KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT and "
        "run the same command in each process. Needs keras-tuner (the "
        "`tune` extra).",
    )
    tune_parser.add_argument(
        "--config", required=True,
        help="YAML or JSON file of the base training settings (required)",
    )
    tune_parser.add_argument(
        "--space", required=True,
        help="YAML or JSON file of the fields to search (required)",
    )
    tune_parser.add_argument(
        "--prepared", metavar="DIR",
        help="train every trial on the token ids of `attnpred prepare` "
        "(default: the config's, else prepared once into OUT/prepared)",
    )
    tune_parser.add_argument(
        "--algorithm", choices=["random", "bayesian", "hyperband"],
        default="random",
        help="KerasTuner's oracle: random search, Bayesian optimization or "
        "Hyperband (epochs up to the config's; default: random)",
    )
    tune_parser.add_argument(
        "--trials", type=_positive_int, default=10,
        help="the most trials (default: 10)",
    )
    tune_parser.add_argument(
        "--objective", choices=["val_loss", "val_accuracy", "bleu"],
        default="val_loss",
        help="the validation score to optimize: loss (minimized), accuracy "
        "or, for translation, greedy BLEU (maximized; default: val_loss)",
    )
    tune_parser.add_argument(
        "--bleu-examples", type=_positive_int, default=500,
        help="--objective bleu: the validation pairs translated (default: "
        "500)",
    )
    tune_parser.add_argument(
        "--out", required=True, help="the search's directory (required)"
    )
    tune_parser.add_argument(
        "--overwrite", action="store_true",
        help="delete the search in --out and start over (without it a "
        "rerun continues it; default: off)",
    )
    tune_parser.set_defaults(handler=command_tune, data=None)

    distill_parser = commands.add_parser(
        "distill",
        help="distil a trained run into a smaller student run",
        description="Knowledge distillation: `attnpred train --teacher "
        "TEACHER_RUN`. A classifier student learns from the teacher's "
        "softened probabilities and the labels (Hinton et al. 2015; "
        "--unlabeled-path adds texts only the teacher labels, "
        "--distillation-attention-weight its last-layer attention); a "
        "translator student trains on the teacher's beam-search "
        "translations (Kim & Rush 2016). Without --data, --prepared or a "
        "train_path in the student's configuration, the student trains on "
        "the teacher's data. The run is an ordinary run of the student.",
    )
    distill_parser.add_argument(
        "teacher_run", metavar="TEACHER_RUN",
        help="the run directory of the teacher",
    )
    distill_parser.add_argument(
        "--student", required=True, metavar="PRESET_OR_CONFIG",
        help="the student: a preset (tiny, small, base, large; with "
        "--model) or a .yaml/.json configuration (required)",
    )
    _add_training_arguments(
        distill_parser,
        data_help="training data, as for train (default: the teacher's)",
        prepared_help="train on the token ids of `attnpred prepare "
        "--tokenizers-from TEACHER_RUN`",
    )
    distill_parser.set_defaults(handler=command_distill)

    prepare_parser = commands.add_parser(
        "prepare",
        help="read a dataset, learn its tokenizer(s) and write its token ids",
        description="Reads the data settings of --config and the flags, "
        "learns the tokenizer(s) on the training part (or takes those of "
        "--tokenizers-from) and writes a folder that `attnpred train "
        "--prepared` trains on, on any Keras backend.",
    )
    prepare_parser.add_argument(
        "--config",
        help="YAML or JSON file (its data settings are used; default: none)",
    )
    prepare_parser.add_argument(
        "--data", nargs="+", metavar="PATH",
        help="training data, as for train (required here or in --config)",
    )
    prepare_parser.add_argument(
        "--tokenizers-from",
        metavar="DIR",
        help="reuse the tokenizer(s) of a run or prepared folder (default: "
        "learn them on the training data)",
    )
    prepare_parser.add_argument(
        "--out", required=True, help="the folder to write (required)"
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
        "tfds:NAME[:SPLIT] (split default: test); this or --prepared is "
        "required",
    )
    evaluate_parser.add_argument(
        "--prepared",
        metavar="DIR",
        help="instead of --data: a folder of `attnpred prepare` made with "
        "the run's tokenizers (loss and accuracy, no TensorFlow needed; "
        "default: none)",
    )
    evaluate_parser.add_argument(
        "--part", default="test", help="the part of --prepared (default: test)"
    )
    evaluate_parser.add_argument(
        "--max-examples",
        type=_positive_int,
        help="translation: score only the first N pairs with BLEU/chrF "
        "(default: all)",
    )
    evaluate_parser.add_argument(
        "--text-column",
        help="classification: the text column, name or 0-based index "
        "(default: the run's)",
    )
    evaluate_parser.add_argument(
        "--label-column",
        help="classification: the label column (default: the run's)",
    )
    _add_delimiter_flag(evaluate_parser)
    evaluate_parser.add_argument(
        "--label-names",
        help="classification: the run's classes as this file writes them, "
        "comma-separated in the run's class order (default: the run's "
        "names, or class ids)",
    )
    evaluate_parser.add_argument(
        "--plots",
        metavar="DIR",
        help="classification: also draw the confusion matrix as "
        "DIR/confusion_matrix.png (default: none)",
    )
    _add_weights_flag(evaluate_parser)
    _add_search_flags(evaluate_parser)
    evaluate_parser.set_defaults(handler=command_evaluate)

    predict_parser = commands.add_parser(
        "predict",
        help="classify or translate texts with a trained run",
        description="Texts come from the arguments, from standard input "
        "(-) or from --input FILE: one text a line, or a column of a CSV/TSV "
        "file (--text-column, or a .csv/.tsv file). Long inputs go through "
        "the model in batches, with a progress bar on stderr.",
    )
    predict_parser.add_argument("run", help="run directory")
    predict_parser.add_argument(
        "texts", nargs="*",
        help="texts, or - to read them from standard input",
    )
    predict_parser.add_argument(
        "--input", metavar="FILE",
        help="read the texts from FILE (- for standard input; default: the "
        "arguments)",
    )
    predict_parser.add_argument(
        "--text-column",
        help="read the input as CSV with a header and take this column, name "
        "or 0-based index (default: one text a line; the run's text column "
        "for a .csv/.tsv file)",
    )
    _add_delimiter_flag(predict_parser)
    predict_parser.add_argument(
        "--format",
        choices=["text", "jsonl", "csv"],
        default="text",
        help="text: tab-separated label, probability and text (a "
        "translation: text and translation); jsonl: one JSON object a line; "
        "csv: with a header (default: text)",
    )
    predict_parser.add_argument(
        "--batch-size",
        type=_positive_int,
        help="texts run through the model together (default: the run's "
        "batch size; translation 64)",
    )
    predict_parser.add_argument(
        "--label-names",
        help="classification: names to print for the run's classes, "
        "comma-separated in class order (default: the run's)",
    )
    _add_weights_flag(predict_parser)
    _add_search_flags(predict_parser)
    predict_parser.set_defaults(handler=command_predict)

    explain_parser = commands.add_parser(
        "explain",
        help="draw what a trained run's attention looked at",
        description="Translation runs: the cross-attention between the "
        "source words and the generated words (averaged over layers and "
        "heads). Classification runs: the importance of each word, with the "
        "predicted label. The picture is a heatmap (.png) or a page that "
        "highlights the words (.html). With --interactive: one page "
        "(FILE.html, self-contained, it works opened from disk) of every "
        "layer and head for one or more texts: for a classifier the "
        "self-attention maps, the attention rollout and the pooling "
        "weights, hover a token for the attention it pays and receives in "
        "every head; for a translator the alignment of every decoder layer "
        "and head of the greedy translation, and of the beam-search one "
        "with --beam-width > 1; words or pieces.",
    )
    explain_parser.add_argument("run", help="run directory")
    explain_parser.add_argument(
        "text", nargs="+",
        help="the text to translate or classify (several with --interactive)",
    )
    explain_parser.add_argument(
        "--out", required=True,
        help="the picture: FILE.png or FILE.html (required)",
    )
    explain_parser.add_argument(
        "--interactive",
        action="store_true",
        help="write the attention explorer page of every layer and head "
        "(--out FILE.html)",
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
    _add_weights_flag(explain_parser)
    _add_search_flags(explain_parser)
    explain_parser.set_defaults(handler=command_explain)
    export_parser = commands.add_parser(
        "export",
        help="export a run for TF Serving (SavedModel) and TFLite",
        description="Writes BASE/VERSION/ (a SavedModel for TF Serving, "
        "tokenizer inside, with warmup requests) and BASE/tflite/VERSION/ "
        "(TFLite models with built-in ops: a classifier in float32, float16, "
        "dynamic-range int8 and full int8 plus a raw-text model, or a "
        "translator's encoder and cached decoder step in float32, float16 "
        "and dynamic-range int8). A version is written "
        "to a temporary folder and renamed into place; existing versions "
        "are never overwritten.",
    )
    export_parser.add_argument("run", help="run directory")
    export_parser.add_argument(
        "--out", required=True, metavar="BASE",
        help="the model's base folder (required)",
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
    export_parser.add_argument(
        "--quantizations",
        nargs="+",
        metavar="Q",
        help="the TFLite variants to write, among float32, float16, "
        "dynamic_int8 and (classifiers) int8 (default: all the model has)",
    )
    _add_weights_flag(export_parser)
    export_parser.set_defaults(handler=command_export)

    demo_parser = commands.add_parser(
        "demo", help="train, evaluate and use a translator on bundled data"
    )
    demo_parser.add_argument(
        "--out", default=os.path.join("runs", "demo"),
        help="run directory (default: runs/demo)",
    )
    demo_parser.add_argument(
        "--epochs", type=int, default=8, help="(default: 8)"
    )
    _add_overwrite_flag(demo_parser)
    demo_parser.set_defaults(handler=command_demo)
    return parser


class _Commands:
    """`add_parser` of the subcommands, each with the common options."""

    def __init__(self, subparsers, common):
        self.subparsers = subparsers
        self.common = common

    def add_parser(self, name, **options):
        return self.subparsers.add_parser(
            name, parents=[self.common], **options
        )


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
    # Parsing loads neither Keras nor TensorFlow: `--help`, `--version` and
    # bad flags answer at once.
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    # `predict RUN --beam-width 4 TEXT ...`: texts after the options, which
    # argparse leaves over once `texts` (nargs="*") matched none.
    if extras and args.command == "predict" and not any(
        extra.startswith("-") and extra != "-" for extra in extras
    ):
        args.texts += extras
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        with _download_limit(args):
            args.handler(args)
    except BrokenPipeError:
        # The reader went away (`attnpred predict ... | head`): stop
        # quietly, and keep Python from failing on the final flush.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
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
