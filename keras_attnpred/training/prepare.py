import os

import numpy as np

from keras_attnpred.data import LabeledTexts
from keras_attnpred.data import ParallelTexts
from keras_attnpred.data import PreparedDataset
from keras_attnpred.data import RaggedIds
from keras_attnpred.data import read_labeled_texts
from keras_attnpred.data import read_parallel_texts
from keras_attnpred.data import read_texts
from keras_attnpred.training.training_config import PREPARATION_FIELDS
from keras_attnpred.training.training_config import TrainingConfig

UNLABELED_PART = PreparedDataset.UNLABELED_PART
UNLABELED = PreparedDataset.UNLABELED


def prepare(config, out_dir=None, tokenizers_from=None):
    """Reads a dataset, learns its tokenizer(s) and stores the token ids.

    The data settings of `config` (`train_path`, `validation_path`,
    `test_path`, columns, `vocabulary_size`, `tokenizer`, ...) say what to
    read and how; the training settings are ignored. The tokenizer(s) are
    learned on the training part only, or taken from `tokenizers_from` (a
    run directory, a prepared folder, or any folder with `tokenizer/` or
    `source_tokenizer/` and `target_tokenizer/`), e.g. to fine-tune a
    pretrained encoder on its own vocabulary. Without `validation_path` a
    seeded random `validation_fraction` of the training part (seed
    `config.seed`) is held out here, once, so every training run from the
    folder validates on the same texts.

    The result trains on any Keras backend without TensorFlow
    (`train` with `prepared`, `attnpred train --prepared`); preparing
    itself needs TensorFlow Text. See `PreparedDataset` for the folder.

    Args:
        config: a `TrainingConfig` or a dict for `TrainingConfig.from_dict`.
        out_dir: optional str, the folder to write (created if missing).
        tokenizers_from: optional str, a folder whose tokenizer(s) to use.

    Returns:
        The `PreparedDataset` (with `directory` set when written).

    Example:

    >>> with open("reviews.csv", "w") as f:
    ...     _ = f.write("text,label\\n")
    ...     _ = f.write("a wonderful film,1\\na dull plot,0\\n" * 20)
    >>> data = prepare({"task": "sentiment", "train_path": "reviews.csv",
    ...                 "vocabulary_size": 50}, "prepared/reviews")
    >>> data.label_names, data.statistics["train"]["rows"]
    (('negative', 'positive'), 36)
    >>> again = PreparedDataset.load("prepared/reviews")  # NumPy only
    >>> again.tokenizer_names, again.statistics["validation"]["rows"]
    (('tokenizer',), 4)
    """
    config = TrainingConfig.coerce(config)
    dataset, tokenizers = prepare_in_memory(config, tokenizers_from)
    if out_dir is not None:
        out_dir = os.fspath(out_dir)
        if os.path.isfile(out_dir):
            raise ValueError(
                "`out_dir` must be a folder (new or a prepared dataset). "
                f"Received: out_dir={out_dir!r}, an existing file"
            )
        dataset.save(out_dir)
        for name, tokenizer in tokenizers.items():
            tokenizer.save(os.path.join(out_dir, name))
    return dataset


def prepare_in_memory(config, tokenizers_from=None):
    """`(PreparedDataset, {folder name: tokenizer})` of `config`'s data,
    nothing written: what `prepare` and `train` on raw data share."""
    from keras_attnpred.text import tokenizer_class

    parts = read_parts(config)
    train = parts["train"]
    if tokenizers_from is not None:
        tokenizers = _load_tokenizers(tokenizers_from, config)
    elif not config.is_translation:
        texts = train if config.task == "pretraining" else train.texts
        tokenizers = {
            "tokenizer": tokenizer_class(config.tokenizer).train(
                list(texts), config.vocabulary_size
            )
        }
    else:
        learn = tokenizer_class(config.tokenizer).train
        tokenizers = {
            "source_tokenizer": learn(
                list(train.sources), config.vocabulary_size
            ),
            # Cased targets: translations are read, and BLEU is cased.
            "target_tokenizer": learn(
                list(train.targets), config.vocabulary_size, lowercase=False
            ),
        }
    arrays = {}
    for name, part in parts.items():
        if part is None:
            continue
        if config.task == "pretraining":
            arrays[name] = {"ids": token_ids(tokenizers["tokenizer"], part)}
        elif name == UNLABELED_PART:
            arrays[name] = {
                "ids": token_ids(tokenizers["tokenizer"], part),
                "labels": np.full(len(part), UNLABELED, np.int32),
            }
        elif config.is_classification:
            arrays[name] = {
                "ids": token_ids(tokenizers["tokenizer"], part.texts),
                "labels": part.labels,
            }
        else:
            arrays[name] = {
                "source": token_ids(
                    tokenizers["source_tokenizer"], part.sources
                ),
                "target": token_ids(
                    tokenizers["target_tokenizer"], part.targets
                ),
            }
    settings = {field: getattr(config, field) for field in PREPARATION_FIELDS}
    if tokenizers_from is not None:
        # What the ids were made with, not what the config asked for.
        settings["tokenizer"] = next(iter(tokenizers.values())).KIND
        settings["vocabulary_size"] = max(
            tokenizer.vocabulary_size for tokenizer in tokenizers.values()
        )
    settings["seed"] = config.seed
    settings["tokenizers_from"] = (
        None if tokenizers_from is None else os.fspath(tokenizers_from)
    )
    dataset = PreparedDataset(
        config.task,
        arrays,
        label_names=(
            list(train.label_names) if config.is_classification else None
        ),
        vocabulary_sizes={
            name: tokenizer.vocabulary_size
            for name, tokenizer in tokenizers.items()
        },
        settings=settings,
        word_starts=(
            tokenizers["tokenizer"].word_starts()
            if config.task == "pretraining" else None
        ),
    )
    return dataset, tokenizers


def token_ids(tokenizer, texts):
    """The ids of `texts` (whole, not cut) as `RaggedIds`."""
    if not len(texts):
        return RaggedIds.from_rows([])
    ragged = tokenizer.tokenize(list(texts))
    return RaggedIds.from_flat(
        ragged.flat_values.numpy(), ragged.row_splits.numpy()
    )


def read_parts(config):
    """The train/validation/test parts as `LabeledTexts` or `ParallelTexts`
    (test None without `test_path`); for pretraining, lists of texts."""
    _check_variables_set(config)
    if config.task == "pretraining":
        return _pretraining_parts(config)

    def read(path, label_names, split):
        # `split`: the TensorFlow Datasets split of a `tfds:NAME` path.
        if config.is_classification:
            part = read_labeled_texts(
                path,
                config.text_column,
                config.label_column,
                label_names=label_names,
                default_split=split,
                delimiter=config.delimiter,
            )
        else:
            part = read_parallel_texts(path, default_split=split)
            if config.reverse:
                part = part.reversed()
        if not len(part):
            raise ValueError(f"{path}: no examples in the file.")
        return part

    if config.train_path is None:
        raise ValueError(
            "`train_path` is needed to read the data. Received: "
            "train_path=None"
        )
    train = read(config.train_path, config.label_names, "train")
    names = train.label_names if config.is_classification else None
    if config.validation_path is not None:
        validation = read(config.validation_path, names, "validation")
    else:
        fraction = config.validation_fraction
        train, validation = train.split((1 - fraction, fraction),
                                        seed=config.seed)
    test = None
    if config.test_path is not None:
        test = read(config.test_path, names, "test")
    if config.max_examples is not None and len(train) > config.max_examples:
        n = config.max_examples
        if config.is_classification:
            train = LabeledTexts(
                train.texts[:n], train.labels[:n], train.label_names
            )
        else:
            train = ParallelTexts(train.sources[:n], train.targets[:n])
    parts = {"train": train, "validation": validation, "test": test}
    if config.task == "sentiment" and names == ("0", "1"):
        # Sentiment labels 0/1 read from a file are named for people.
        parts = {
            key: None if part is None else LabeledTexts(
                part.texts, part.labels, ("negative", "positive")
            )
            for key, part in parts.items()
        }
    if config.unlabeled_path is not None:
        parts[UNLABELED_PART] = read_texts(
            config.unlabeled_path, config.unlabeled_text_column,
            config.delimiter,
        )
    return parts


def _check_variables_set(config):
    """A `$NAME` left in a data path: its variable was not set when the
    config was read (`TrainingConfig.from_file` expands the set ones)."""
    for field in ("train_path", "validation_path", "test_path",
                  "unlabeled_path"):
        value = getattr(config, field)
        for path in value if isinstance(value, list) else [value]:
            if isinstance(path, str) and "$" in path:
                raise ValueError(
                    "A data path names an environment variable that is not "
                    f"set. Received: {field}={path!r}"
                )


def _pretraining_parts(config):
    if config.train_path is None:
        raise ValueError(
            "`train_path` is needed to read the texts. Received: "
            "train_path=None"
        )
    if config.test_path is not None:
        raise ValueError(
            "Pretraining has no test part (a corpus has no labels to test). "
            f"Received: test_path={config.test_path!r}"
        )
    train = read_texts(config.train_path, config.text_column,
                       config.delimiter)
    if config.validation_path is not None:
        validation = read_texts(config.validation_path, config.text_column,
                                config.delimiter)
    else:
        order = np.random.default_rng(config.seed).permutation(len(train))
        held_out = max(1, round(len(train) * config.validation_fraction))
        if held_out >= len(train):
            raise ValueError(
                f"{len(train)} text(s) are too few to hold out a validation "
                "part. Received: train_path with "
                f"{len(train)} text(s)"
            )
        validation = [train[i] for i in order[:held_out]]
        train = [train[i] for i in np.sort(order[held_out:])]
    if config.max_examples is not None:
        train = train[: config.max_examples]
    return {"train": train, "validation": validation, "test": None}


def _load_tokenizers(directory, config):
    from keras_attnpred.text import load_tokenizer

    names = (
        ("source_tokenizer", "target_tokenizer")
        if config.is_translation
        else ("tokenizer",)
    )
    directory = os.fspath(directory)
    missing = [
        name for name in names
        if not os.path.isdir(os.path.join(directory, name))
    ]
    if missing:
        raise ValueError(
            f"`tokenizers_from` must hold the folder(s) {list(names)} for "
            f"task={config.task!r}; {missing} missing. Received: "
            f"tokenizers_from={directory!r}"
        )
    return {
        name: load_tokenizer(os.path.join(directory, name)) for name in names
    }
