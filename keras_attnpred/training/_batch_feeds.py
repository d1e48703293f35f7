"""`PreparedBatches` in the form `model.fit` takes on each backend."""

import keras


def keras_data(batches):
    """A `tf.data.Dataset` of `batches` on TensorFlow (where
    `tf.distribute` needs one), a `keras.utils.PyDataset` elsewhere.

    Both read the batches in their current order when an epoch starts, so
    `PreparedBatches.set_epoch` at `on_epoch_begin` reorders the epoch.
    """
    if keras.backend.backend() == "tensorflow":
        return _tf_dataset(batches)
    return _PyBatches(batches)


class _PyBatches(keras.utils.PyDataset):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches
        self.process, self.processes = _process_and_count()

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        batch = self.batches[index]
        if self.processes == 1:
            return batch
        # Keras on JAX takes each process's rows as its share of the global
        # batch (`jax.make_array_from_process_local_data`).
        return keras.tree.map_structure(
            lambda array: array[self.process::self.processes], batch
        )


def _process_and_count():
    if keras.backend.backend() != "jax":
        return 0, 1
    import jax

    return jax.process_index(), jax.process_count()


def _tf_dataset(batches):
    import tensorflow as tf

    # Every batch shape is declared unknown: Keras would otherwise take the
    # shape of the first batches for all of them.
    def spec(value):
        return tf.TensorSpec((None,) * value.ndim, tf.as_dtype(value.dtype))

    first = batches[0]
    signature = tf.nest.map_structure(spec, first)

    def generate():
        for index in range(len(batches)):
            yield batches[index]

    dataset = tf.data.Dataset.from_generator(
        generate, output_signature=signature
    )
    # A known size: Keras then neither warns that the data "ran out" nor
    # guesses the steps of an epoch.
    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality(len(batches))
    )
    return dataset.prefetch(2)
