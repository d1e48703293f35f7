"""`MultiWorkerMirroredStrategy` that Keras 3 `fit` can train under."""

import tensorflow as tf


class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """`tf.distribute.MultiWorkerMirroredStrategy` with a `reduce` that takes
    what Keras 3's TensorFlow trainer gives it.

    Keras 3 `fit` fails under the stock strategy on its first batch
    (keras-team/keras#20585, tensorflow/tensorflow#72388) for two reasons:
    it reduces the whole `(x, y)` batch, a structure, where this strategy
    reduces one value at a time; and it reduces the scalar logs of each step
    along axis 0. Here `reduce` maps over the structure, and reduces scalars
    across replicas without an axis. Every other call behaves as before.
    """

    def reduce(self, reduce_op, value, axis):
        def reduce_one(per_replica):
            local = self.experimental_local_results(per_replica)[0]
            return super(MultiWorkerMirroredStrategy, self).reduce(
                reduce_op, per_replica, axis=None if local.shape.rank == 0 else axis
            )

        return tf.nest.map_structure(reduce_one, value)
