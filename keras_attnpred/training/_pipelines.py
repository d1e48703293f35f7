"""The data of a run: its parts read from the settings, tokenizers learned
on the training part, and the `tf.data` pipelines."""

import numpy as np


def read_data(config):
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


class Pipelines:
    """Tokenizers learned on the training part, and the `tf.data` inputs."""

    def __init__(self, config, data, batch_divisor):
        from keras_attnpred.text import resolve_bucket_boundaries
        from keras_attnpred.text import tokenizer_class

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

    def train_epochs(self, first_epoch):
        """The training batches of epochs `first_epoch` to the last, as one
        dataset.

        Every epoch gets its own seeded order (`config.seed + epoch`), so a
        resumed run sees the same batches as an uninterrupted one. Bucket
        sizes do not depend on the order, so every epoch has the same number
        of batches.
        """
        config = self.config
        epochs = [self.train(config.seed + epoch)
                  for epoch in range(max(first_epoch, 0), config.epochs)]
        if not epochs:
            # Nothing left to train; `fit` still needs a dataset.
            return self.train(config.seed)
        dataset = epochs[0]
        for later in epochs[1:]:
            dataset = dataset.concatenate(later)
        return dataset

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
