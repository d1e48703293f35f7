"""What training needs to know of a strategy from `get_strategy`, on either
backend: a `tf.distribute.Strategy` or a `keras.distribution.DataParallel`."""

import keras
import numpy as np


def chief_and_worker_name(strategy):
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


def num_replicas(strategy):
    if hasattr(strategy, "num_replicas_in_sync"):
        return int(strategy.num_replicas_in_sync)
    return int(np.prod(strategy.device_mesh.shape))


def batch_divisor(strategy):
    """What every batch size must divide by: 1 unless under JAX."""
    # tf.distribute splits uneven batches itself; JAX sharding cannot.
    if keras.backend.backend() == "jax":
        return num_replicas(strategy)
    return 1
