import keras

STRATEGY_NAMES = ("auto", "one-device", "mirrored", "multi-worker", "tpu")


def get_strategy(name="auto"):
    """A data-parallel strategy by name, for the current Keras backend.

    TensorFlow backend (`tf.distribute`):

    - `"auto"`: `MirroredStrategy` over all GPUs when there is more than one,
      else the default strategy (one device).
    - `"one-device"`: `OneDeviceStrategy` on the first GPU, else the CPU.
    - `"mirrored"`: `MirroredStrategy` over all local GPUs (or the CPU and
      the logical CPU devices when there is no GPU).
    - `"multi-worker"`: `MultiWorkerMirroredStrategy` (a subclass whose
      `reduce` works around keras-team/keras#20585, so that `fit` runs);
      the cluster and this worker's role come from the `TF_CONFIG`
      environment variable. Create it before any other TensorFlow
      operation.
    - `"tpu"`: `TPUStrategy` on the TPU found by `TPUClusterResolver`.

    JAX backend (`keras.distribution`): every name gives a
    `keras.distribution.DataParallel` distribution; use it with
    `with distribution.scope():` (what `train` does) or
    `keras.distribution.set_distribution(distribution)`. `"auto"` and
    `"mirrored"` span all local accelerators (all CPU devices when there is
    none, e.g. with `XLA_FLAGS=--xla_force_host_platform_device_count=2`),
    `"one-device"` the first one, `"tpu"` the TPU cores; `"multi-worker"`
    first calls `keras.distribution.initialize()` (which reads the JAX
    coordinator settings from the environment) and spans the devices of
    all processes. The batch of each step must divide evenly across them.

    Both kinds of object have a `scope()` context manager: the model and
    optimizer must be created inside it.

    Args:
        name: one of `"auto"`, `"one-device"`, `"mirrored"`,
            `"multi-worker"`, `"tpu"`.

    Returns:
        A `tf.distribute.Strategy` (TensorFlow) or a
        `keras.distribution.DataParallel` (JAX).

    Raises:
        ValueError: an unknown name, or a backend other than TensorFlow and
            JAX.

    Example:

    >>> strategy = get_strategy("auto")  # one device on a CPU-only machine
    >>> with strategy.scope():
    ...     model = build_transformer_classifier(100, 2, max_length=16,
    ...                                          preset="tiny")
    ...     model.compile(optimizer="adam", loss=keras.losses.
    ...                   SparseCategoricalCrossentropy(from_logits=True))
    >>> tuple(model.predict(np.array([[5, 6, 7]]), verbose=0).shape)
    (1, 2)
    >>> get_strategy("gpu")
    Traceback (most recent call last):
    ValueError: `name` must be one of [...]. Received: name='gpu'
    """
    if name not in STRATEGY_NAMES:
        raise ValueError(
            f"`name` must be one of {list(STRATEGY_NAMES)}. "
            f"Received: name={name!r}"
        )
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_strategy(name)
    if backend == "jax":
        return _jax_distribution(name)
    raise ValueError(
        "`get_strategy` needs the TensorFlow or JAX backend. "
        f"Received: backend={backend!r}"
    )


def _tensorflow_strategy(name):
    import tensorflow as tf

    if name == "multi-worker":
        # Keras 3 `fit` needs the mended `reduce` of this subclass.
        from keras_attnpred.training._multi_worker_strategy import (
            MultiWorkerMirroredStrategy,
        )

        return MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    if name == "one-device":
        device = gpus[0].name if gpus else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device)
    # "mirrored": without GPUs, span the (logical) CPU devices, so that the
    # strategy can be exercised and tested on a CPU-only machine.
    if gpus:
        return tf.distribute.MirroredStrategy()
    cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(cpus)


def _jax_distribution(name):
    if name == "multi-worker":
        keras.distribution.initialize()
    if name == "tpu":
        devices = keras.distribution.list_devices("tpu")
    else:
        devices = keras.distribution.list_devices()
    if name == "one-device":
        devices = devices[:1]
    return keras.distribution.DataParallel(devices=devices)
