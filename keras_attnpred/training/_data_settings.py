"""A configuration made to agree with the data it trains on."""

from keras_attnpred.training.training_config import PREPARATION_FIELDS
from keras_attnpred.training.training_config import TrainingConfig

_PATHS = ("train_path", "validation_path", "test_path", "unlabeled_path")
_DEFAULTS = TrainingConfig.defaults()
# What `prepare --tokenizers-from` takes from the tokenizers it is given.
_GIVEN_WITH_TOKENIZERS = ("tokenizer", "vocabulary_size")


def resolve_data_settings(config, dataset):
    """`config` with the data settings of the `PreparedDataset` and a
    `max_length` fitted to it when None.

    A data setting left at its default takes the folder's value; one given
    another value than the folder's raises, since the folder was not made
    with it (but for the tokenizer's kind and size of a folder made with
    another run's tokenizers, which are what they are).
    """
    updates = {}
    if config.prepared is not None:
        if config.task != dataset.task:
            raise ValueError(
                f"{config.prepared} holds {dataset.task!r} data. Received: "
                f"task={config.task!r}"
            )
        for name in PREPARATION_FIELDS:
            if name not in dataset.settings or name == "task":
                continue
            theirs = dataset.settings[name]
            ours = getattr(config, name)
            if ours == theirs:
                continue
            if name in _PATHS:
                # Where the data was read is not what it holds (the same
                # files may sit elsewhere here); the run records the
                # folder's paths.
                updates[name] = theirs
                continue
            if name in _DEFAULTS and ours == _DEFAULTS[name]:
                updates[name] = theirs
                continue
            if name in _GIVEN_WITH_TOKENIZERS and dataset.settings.get(
                "tokenizers_from"
            ):
                # The folder took another run's tokenizer: the config's
                # request (the one `prepare --tokenizers-from` read too)
                # did not apply, and the run records what the ids are.
                updates[name] = theirs
                continue
            raise ValueError(
                f"`{name}` differs from the prepared data in "
                f"{config.prepared}, made with {name}={theirs!r}: prepare "
                f"the data again with it, or leave it out. Received: "
                f"{name}={ours!r}"
            )
    if config.max_length is None:
        updates["max_length"] = dataset.default_max_length()
        if (
            config.head_tokens is not None
            and config.head_tokens >= updates["max_length"]
        ):
            raise ValueError(
                "`head_tokens` must be less than `max_length`, which was "
                f"fitted to the data as {updates['max_length']}: set "
                "`max_length`. Received: "
                f"head_tokens={config.head_tokens}"
            )
    if not updates:
        return config
    # Through from_dict: the combination is checked like any other.
    return TrainingConfig.from_dict({**config.to_dict(), **updates})
