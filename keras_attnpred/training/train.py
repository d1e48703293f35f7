import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time

import keras
import numpy as np

from keras_attnpred.training import _run_files as files
from keras_attnpred.training.get_strategy import get_strategy
from keras_attnpred.training.training_config import TrainingConfig
from keras_attnpred.training.training_diverged_error import (
    TrainingDivergedError,
)
from keras_attnpred.training.training_run import TrainingRun
from keras_attnpred.training.transformer_schedule import TransformerSchedule

# (embedding_dim, units) of the RNN models per preset.
RNN_PRESETS = {"tiny": (32, 64), "small": (128, 128), "base": (256, 256)}


def train(config, out_dir, callbacks=None, verbose="auto"):
    """Trains a translator or a text classifier and writes a run directory.

    Reads the data, learns the tokenizer(s) on the training part only,
    builds `tf.data` pipelines, builds and compiles the model inside the
    distribution strategy's scope and fits it. An interrupted run resumes:
    call `train` again with the same configuration and `out_dir`, and it
    continues after the last completed epoch
    (`keras.callbacks.BackupAndRestore`). Only `epochs` and
    `early_stopping_patience` may change in between; other changes raise a
    `ValueError` rather than mix two runs. Resuming gives the same weights as an uninterrupted
    run on one CPU: the batches of epoch `e` are shuffled with seed
    `config.seed + e` and the dropout seeds are reset at every epoch from
    the epoch number, so neither depends on what ran before.

    The run directory:

    ```
    out_dir/config.json              TrainingConfig.to_dict()
    out_dir/model.keras              the final model
    out_dir/checkpoints/best.keras   the model of the lowest validation loss
    out_dir/backup/                  BackupAndRestore and the settings it
                                     was made with (emptied when done)
    out_dir/logs/                    TensorBoard: train/, validation/
                                     (losses, metrics, learning rate) and
                                     hparams/ (the configuration)
    out_dir/metrics.json             final metrics and run facts
    classification: out_dir/tokenizer/, out_dir/labels.json
    translation:    out_dir/source_tokenizer/, out_dir/target_tokenizer/,
                    out_dir/translator.json ({"max_length": N})
    ```

    `metrics.json` holds `"train"`, `"validation"` and (with a `test_path`)
    `"test"`, each `{"loss", "accuracy"}` of the final model evaluated
    without dropout (for translation the token accuracy without padding),
    and `"training_seconds"`, `"parameter_count"`, `"padding_fraction"`
    (of the training batches' inputs), `"epochs_completed"`, `"history"`
    (per-epoch logs of this call's `fit`) and `"num_replicas"`.

    A loss that becomes NaN or infinite stops training at once with a
    `TrainingDivergedError`; nothing of that epoch is saved, so `backup/`
    and `checkpoints/best.keras` keep the last good state. Under
    `"mixed_float16"` Keras wraps the optimizer in a
    `keras.optimizers.LossScaleOptimizer` (dynamic loss scaling), so
    gradients that overflow float16 skip a step rather than break the run.

    Under `"multi-worker"` every worker trains, but only the chief writes
    `out_dir`; the other workers write to a temporary directory of their
    own, which is removed once training ends without error (and kept after
    a failure, for resuming).

    Args:
        config: a `TrainingConfig` or a dict for `TrainingConfig.from_dict`.
        out_dir: str, the run directory; created if missing.
        callbacks: optional list of extra `keras.callbacks.Callback`s.
        verbose: passed to `fit` and `evaluate`: `"auto"`, 0, 1 (progress
            bars) or 2.

    Returns:
        A `TrainingRun` holding the trained model, tokenizer(s), label names
        and metrics.

    Example:

    >>> config = TrainingConfig.from_file("sentiment.yaml")
    >>> run = train(config, "runs/sentiment")
    >>> run.predict(["What a wonderful film!"])[0]["label_name"]
    'positive'
    """
    if isinstance(config, dict):
        config = TrainingConfig.from_dict(config)
    if not isinstance(config, TrainingConfig):
        raise ValueError(
            "`config` must be a `TrainingConfig` or a dict. "
            f"Received: config of type {type(config).__name__}"
        )
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise ValueError(
            f"`out_dir` must be a path. Received: out_dir={out_dir!r}"
        )
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(
            "`out_dir` must be a directory (new or a run directory). "
            f"Received: out_dir={out_dir!r}, an existing file"
        )
    # First: MultiWorkerMirroredStrategy must exist before any TF op runs.
    strategy = get_strategy(config.strategy)
    chief, worker_name = _chief(strategy)
    if chief:
        write_dir = out_dir
    else:
        key = hashlib.sha1(os.path.abspath(out_dir).encode()).hexdigest()
        write_dir = os.path.join(
            tempfile.gettempdir(), f"keras_attnpred_{key[:12]}_{worker_name}"
        )
    previous_policy = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy(config.mixed_precision)
        run = _train(config, write_dir, strategy, callbacks or [], verbose)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    if not chief:
        shutil.rmtree(write_dir, ignore_errors=True)
        run.directory = None
    return run


def _train(config, out_dir, strategy, extra_callbacks, verbose):
    from keras_attnpred.text import padding_fraction

    os.makedirs(os.path.join(out_dir, files.BACKUP), exist_ok=True)
    os.makedirs(os.path.dirname(os.path.join(out_dir, files.BEST)),
                exist_ok=True)
    backup_dir = os.path.join(out_dir, files.BACKUP)
    first_epoch = min(_resumed_epoch(backup_dir), config.epochs)
    _check_same_run(backup_dir, config)
    keras.utils.set_random_seed(config.seed)
    data = _read_data(config)
    pipelines = _Pipelines(config, data, _batch_divisor(strategy))

    # Every epoch gets its own seeded order, so a resumed run sees the same
    # batches as an uninterrupted one. Bucket sizes do not depend on the
    # order, so every epoch has the same number of batches.
    first_train = pipelines.train(config.seed)
    steps_per_epoch = sum(1 for _ in first_train)
    padding = padding_fraction(first_train)
    epochs_data = [pipelines.train(config.seed + epoch)
                   for epoch in range(max(first_epoch, 0), config.epochs)]
    train_data = epochs_data[0] if epochs_data else first_train
    for later in epochs_data[1:]:
        train_data = train_data.concatenate(later)
    validation_data = pipelines.evaluation(data["validation"])

    with strategy.scope():
        model = _build_model(config, pipelines)
        model.compile(
            optimizer=_optimizer(config),
            loss=_loss(config),
            metrics=[_accuracy(config)],
        )
        seeds = _EpochSeeds(model, config.seed)
        callbacks = [
            seeds,
            # Before the backup and the checkpoint: a NaN epoch is never
            # saved.
            _StopOnNonFiniteLoss(out_dir),
            keras.callbacks.BackupAndRestore(backup_dir),
            keras.callbacks.ModelCheckpoint(
                os.path.join(out_dir, files.BEST),
                monitor="val_loss",
                save_best_only=True,
            ),
            keras.callbacks.TensorBoard(os.path.join(out_dir, files.LOGS)),
        ]
        if config.early_stopping_patience is not None:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss",
                    patience=config.early_stopping_patience,
                    restore_best_weights=True,
                )
            )
        _write_hparams(config, os.path.join(out_dir, files.LOGS))

        start = time.perf_counter()
        history = model.fit(
            train_data,
            epochs=config.epochs,
            steps_per_epoch=steps_per_epoch,
            validation_data=validation_data,
            callbacks=callbacks + list(extra_callbacks),
            shuffle=False,  # each epoch's dataset is shuffled already
            verbose=verbose,
        )
        seconds = time.perf_counter() - start

        metrics = {
            "train": _evaluate(model, pipelines.evaluation(data["train"]),
                               verbose),
            "validation": _evaluate(model, validation_data, verbose),
        }
        if data["test"] is not None:
            metrics["test"] = _evaluate(
                model, pipelines.evaluation(data["test"]), verbose
            )
    # BackupAndRestore removes its directory once fit ends; keep the layout.
    os.makedirs(backup_dir, exist_ok=True)
    metrics.update(
        training_seconds=seconds,
        parameter_count=int(model.count_params()),
        padding_fraction=float(padding),
        epochs_completed=int(first_epoch + len(history.epoch)),
        num_replicas=_num_replicas(strategy),
        history={
            key: [float(value) for value in values]
            for key, values in history.history.items()
        },
    )
    model.save(os.path.join(out_dir, files.MODEL))
    _save_json(out_dir, files.CONFIG, config.to_dict())
    _save_json(out_dir, files.METRICS, metrics)
    if config.is_classification:
        pipelines.tokenizer.save(os.path.join(out_dir, files.TOKENIZER))
        _save_json(out_dir, files.LABELS,
                   {"label_names": list(pipelines.label_names)})
    else:
        pipelines.source_tokenizer.save(
            os.path.join(out_dir, files.SOURCE_TOKENIZER)
        )
        pipelines.target_tokenizer.save(
            os.path.join(out_dir, files.TARGET_TOKENIZER)
        )
        _save_json(out_dir, files.TRANSLATOR,
                   {"max_length": config.max_length})
    return TrainingRun(
        config=config,
        model=model,
        metrics=metrics,
        tokenizer=getattr(pipelines, "tokenizer", None),
        label_names=getattr(pipelines, "label_names", None),
        source_tokenizer=getattr(pipelines, "source_tokenizer", None),
        target_tokenizer=getattr(pipelines, "target_tokenizer", None),
        directory=out_dir,
    )


def _read_data(config):
    """The train/validation/test parts as `LabeledTexts` or `ParallelTexts`."""
    from keras_attnpred.data import LabeledTexts
    from keras_attnpred.data import ParallelTexts
    from keras_attnpred.data import read_labeled_texts
    from keras_attnpred.data import read_parallel_texts

    def read(path, label_names, split):
        # `split`: the TensorFlow Datasets split of a `tfds:NAME` path.
        if config.is_classification:
            part = read_labeled_texts(
                path,
                config.text_column,
                config.label_column,
                label_names=label_names,
                default_split=split,
            )
        else:
            part = read_parallel_texts(path, default_split=split)
            if config.reverse:
                part = part.reversed()
        if not len(part):
            raise ValueError(f"{path}: no examples in the file.")
        return part

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
    return parts


class _Pipelines:
    """Tokenizers learned on the training part, and the `tf.data` inputs."""

    def __init__(self, config, data, batch_divisor):
        from keras_attnpred.text import tokenizer_class
        from keras_attnpred.text import resolve_bucket_boundaries

        self.config = config
        self.data = data
        self.batch_divisor = batch_divisor
        train = data["train"]
        tokenizer = tokenizer_class(config.tokenizer)
        if config.is_classification:
            self.tokenizer = tokenizer.train(
                list(train.texts), config.vocabulary_size
            )
            self.label_names = tuple(train.label_names)

            def lengths():
                ids = self.tokenizer.tokenize(list(train.texts))
                return np.minimum(ids.row_lengths().numpy(),
                                  config.max_length)
        else:
            self.source_tokenizer = tokenizer.train(
                list(train.sources), config.vocabulary_size
            )
            # Cased targets: translations are read, and BLEU is cased.
            self.target_tokenizer = tokenizer.train(
                list(train.targets), config.vocabulary_size, lowercase=False
            )

            def lengths():
                source = self.source_tokenizer.tokenize(list(train.sources))
                target = self.target_tokenizer.tokenize(list(train.targets))
                return np.maximum(
                    np.minimum(source.row_lengths().numpy(),
                               config.max_length),
                    np.minimum(target.row_lengths().numpy() + 1,
                               config.max_length),
                )

        # "auto" tokenizes everything once; do it once, not every epoch.
        self.boundaries = resolve_bucket_boundaries(
            config.bucket_boundaries, lengths, config.max_length
        )

    def train(self, seed):
        return self._dataset(self.data["train"], shuffle=True, seed=seed)

    def evaluation(self, part):
        import tensorflow as tf

        dataset = self._dataset(part, shuffle=False, seed=0)
        # Bucketing and filtering hide the size; Keras warns that a dataset
        # of unknown size "ran out of data" when it ends.
        batches = sum(1 for _ in dataset)
        return dataset.apply(tf.data.experimental.assert_cardinality(batches))

    def _dataset(self, part, shuffle, seed):
        from keras_attnpred.text import classification_dataset
        from keras_attnpred.text import translation_dataset

        config = self.config
        if config.is_classification:
            dataset = classification_dataset(
                list(part.texts),
                part.labels,
                self.tokenizer,
                batch_size=config.batch_size,
                max_length=config.max_length,
                shuffle=shuffle,
                seed=seed,
                bucket_boundaries=self.boundaries,
            )
        else:
            dataset = translation_dataset(
                list(part.sources),
                list(part.targets),
                self.source_tokenizer,
                self.target_tokenizer,
                batch_size=config.batch_size,
                max_length=config.max_length,
                shuffle=shuffle,
                seed=seed,
                bucket_boundaries=self.boundaries,
            )
        if self.batch_divisor > 1:
            import tensorflow as tf

            # JAX data parallelism shards every batch evenly over the
            # devices; a batch that does not divide is left out.
            divisor = self.batch_divisor
            dataset = dataset.filter(
                lambda inputs, labels: tf.shape(labels)[0] % divisor == 0
            )
        return dataset


def _build_model(config, pipelines):
    from keras_attnpred import models

    embedding_dim, units = RNN_PRESETS[config.preset]
    if config.is_classification:
        vocabulary = pipelines.tokenizer.vocabulary_size
        classes = len(pipelines.label_names)
        if config.model == "transformer":
            return models.build_transformer_classifier(
                vocabulary,
                classes,
                config.max_length,
                preset=config.preset,
                bigram_buckets=config.bigram_buckets,
            )
        return models.build_rnn_classifier(
            vocabulary,
            classes,
            embedding_dim=embedding_dim,
            units=units,
            bigram_buckets=config.bigram_buckets,
        )
    source = pipelines.source_tokenizer.vocabulary_size
    target = pipelines.target_tokenizer.vocabulary_size
    if config.model == "transformer":
        return models.build_transformer_translator(
            source, target, config.max_length, preset=config.preset
        )
    return models.build_rnn_translator(
        source,
        target,
        attention=config.attention,
        embedding_dim=embedding_dim,
        units=units,
    )


def _model_dim(config):
    from keras_attnpred.models import TRANSFORMER_PRESETS

    if config.model == "transformer":
        return TRANSFORMER_PRESETS[config.preset]["model_dim"]
    return RNN_PRESETS[config.preset][1]


def _optimizer(config):
    kwargs = {}
    if config.clipnorm is not None:
        kwargs["clipnorm"] = config.clipnorm
    if config.learning_rate == "transformer":
        schedule = TransformerSchedule(_model_dim(config), config.warmup_steps)
        # The paper's Adam settings go with its schedule.
        return keras.optimizers.Adam(
            schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9, **kwargs
        )
    return keras.optimizers.Adam(config.learning_rate, **kwargs)


def _loss(config):
    from keras_attnpred.models import MaskedSparseCategoricalCrossentropy

    if not config.is_classification:
        return MaskedSparseCategoricalCrossentropy(
            label_smoothing=config.label_smoothing
        )
    if config.label_smoothing:
        # No class id is -1: nothing is masked, only smoothed.
        return MaskedSparseCategoricalCrossentropy(
            pad_id=-1, label_smoothing=config.label_smoothing
        )
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _accuracy(config):
    from keras_attnpred.models import MaskedSparseCategoricalAccuracy

    if config.is_classification:
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    return MaskedSparseCategoricalAccuracy(name="accuracy")


def _evaluate(model, dataset, verbose):
    values = model.evaluate(dataset, return_dict=True, verbose=verbose)
    return {key: float(value) for key, value in values.items()}


class _EpochSeeds(keras.callbacks.Callback):
    """Resets every dropout seed at the start of each epoch.

    The seeds of epoch `e` are a function of `e` only, so a run resumed from
    a backup draws the same dropout masks as one that never stopped.
    """

    def __init__(self, model, seed):
        super().__init__()
        # `_seed_generators` is the layers' own list; Keras has no public
        # accessor for them.
        self._generators = [
            generator
            for layer in model._flatten_layers()
            for generator in getattr(layer, "_seed_generators", [])
        ]
        self._initial = [
            keras.ops.convert_to_numpy(generator.state.value).copy()
            for generator in self._generators
        ]

    def on_epoch_begin(self, epoch, logs=None):
        for generator, initial in zip(self._generators, self._initial):
            state = initial.copy()
            state[-1] = (int(state[-1]) + epoch * 2**20) % 2**32
            generator.state.assign(state)


class _StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises `TrainingDivergedError` as soon as a loss is NaN or infinite.

    `keras.callbacks.TerminateOnNaN` only stops `fit`, after which the NaN
    model would be evaluated and saved as the result, and the backup
    deleted. Raising leaves the run directory as it was after the last
    good epoch.
    """

    def __init__(self, out_dir):
        super().__init__()
        self.out_dir = out_dir
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check((logs or {}).get("loss"), batch, "loss")

    def on_epoch_end(self, epoch, logs=None):
        self._check((logs or {}).get("val_loss"), None, "validation loss")

    def _check(self, value, batch, what):
        if value is None:
            return
        value = float(value)
        if np.isfinite(value):
            return
        where = f"epoch {self.epoch + 1}" + (
            "" if batch is None else f", batch {batch + 1}"
        )
        kept = (
            f"{os.path.join(self.out_dir, files.BACKUP)} holds the weights "
            f"of epoch {self.epoch}, {os.path.join(self.out_dir, files.BEST)}"
            " the best model so far"
            if self.epoch
            else "no epoch was completed"
        )
        raise TrainingDivergedError(
            f"Training diverged: the {what} became {value} in {where}. "
            f"Nothing of this epoch was saved; {kept}. Try a lower "
            "learning_rate, a clipnorm, or mixed_precision float32 / "
            "mixed_bfloat16, in a new out_dir (or delete "
            f"{os.path.join(self.out_dir, files.BACKUP)} first).",
            epoch=self.epoch,
            batch=batch,
            value=value,
        )


def _resumed_epoch(backup_dir):
    """The epoch `BackupAndRestore` will resume at: 0 without a backup.

    Read from the callback's own `training_metadata.json`, because the
    training data of a resumed run must start at that epoch's batches.
    """
    path = os.path.join(backup_dir, "training_metadata.json")
    weights = os.path.join(backup_dir, "latest.weights.h5")
    if not os.path.exists(path):
        return 0
    try:
        with open(path, encoding="utf-8") as f:
            epoch = json.load(f)["epoch"]
    except (ValueError, KeyError, TypeError) as error:
        raise _corrupt_backup(path, f"unreadable ({error!r})") from None
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise _corrupt_backup(path, f"bad epoch {epoch!r}")
    import h5py

    if not os.path.exists(weights) or not h5py.is_hdf5(weights):
        raise _corrupt_backup(weights, "missing or not an HDF5 file")
    return epoch


# Settings a resumed run may change: they do not alter what was trained.
_RESUMABLE_CHANGES = ("epochs", "early_stopping_patience")


def _check_same_run(backup_dir, config):
    """Refuses to resume a backup made with other settings; records ours.

    `BackupAndRestore` would restore the weights and optimizer state of the
    other run in silence, and the result would belong to neither.
    """
    path = os.path.join(backup_dir, files.CONFIG)
    ours = config.to_dict()
    resuming = os.path.exists(os.path.join(backup_dir,
                                           "training_metadata.json"))
    if resuming and os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                theirs = json.load(f)
        except ValueError as error:
            raise _corrupt_backup(path, f"unreadable ({error!r})") from None
        # A backup from before a setting existed ran with its default.
        if isinstance(theirs, dict):
            theirs = {**_config_defaults(), **theirs}
        changed = sorted(
            key
            for key in set(ours) | set(theirs)
            if key not in _RESUMABLE_CHANGES
            and ours.get(key) != theirs.get(key)
        )
        if changed:
            differences = ", ".join(
                f"{key}={theirs.get(key)!r} -> {ours.get(key)!r}"
                for key in changed
            )
            raise ValueError(
                f"{os.path.dirname(backup_dir)} holds an interrupted run "
                f"with other settings ({differences}). Run the same "
                f"command to resume it, or delete {backup_dir} to start "
                "over."
            )
    _save_json(backup_dir, files.CONFIG, ours)


def _config_defaults():
    return {
        field.name: field.default
        for field in dataclasses.fields(TrainingConfig)
        if field.default is not dataclasses.MISSING
    }


def _corrupt_backup(path, problem):
    return ValueError(
        f"Corrupt training backup {path}: {problem}. Delete "
        f"{os.path.dirname(path)} to train from the start."
    )


def _chief(strategy):
    """Whether this process writes the run directory, and a worker name."""
    if keras.backend.backend() == "jax":
        import jax

        index = jax.process_index()
        return index == 0, f"process_{index}"
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, "chief"
    task_type, task_id = resolver.task_type, resolver.task_id or 0
    name = f"{task_type}_{task_id}"
    if task_type == "chief":
        return True, name
    cluster = resolver.cluster_spec().as_dict()
    # Without a "chief" task, worker 0 acts as the chief (as in TF_CONFIG).
    return task_type == "worker" and task_id == 0 and "chief" not in cluster, (
        name
    )


def _num_replicas(strategy):
    if hasattr(strategy, "num_replicas_in_sync"):
        return int(strategy.num_replicas_in_sync)
    return int(np.prod(strategy.device_mesh.shape))


def _batch_divisor(strategy):
    # tf.distribute splits uneven batches itself; JAX sharding cannot.
    if keras.backend.backend() == "jax":
        return _num_replicas(strategy)
    return 1


def _write_hparams(config, log_dir):
    """The configuration for TensorBoard's HParams dashboard."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams_api

    values = {}
    for key, value in config.to_dict().items():
        # HParams takes bool, int, float and str only.
        if value is None or isinstance(value, (list, dict)):
            value = json.dumps(value)
        values[key] = value
    writer = tf.summary.create_file_writer(os.path.join(log_dir, "hparams"))
    with writer.as_default():
        hparams_api.hparams(values)
        tf.summary.text(
            "config", json.dumps(config.to_dict(), indent=2), step=0
        )
    writer.close()


def _save_json(out_dir, name, value):
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
