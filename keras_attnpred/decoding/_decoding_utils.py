"""Backend compilation and trace counting shared by the decoders."""

import keras
import numpy as np

from keras_attnpred.decoding.check_decoding_length import check_decoding_length
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int

# Python side effect run only while a decoding loop is traced, so tests can
# see whether a second call with the same shapes traced again.
_tracing_count = 0


def count_trace():
    global _tracing_count
    _tracing_count += 1


def tracing_count():
    """How often a decoding loop has been traced (compiled) so far."""
    return _tracing_count


def compile_for_backend(loop, variables):
    """`loop(source)` compiled for the current backend.

    TensorFlow: an XLA-compiled `tf.function`, which captures the variables by reference and
    keeps one concrete graph per input shape. JAX: `jax.jit` of a pure
    function that takes the variable values as arguments (set through a
    `keras.StatelessScope`), so later weight updates are seen and the weights
    are not baked into the program as constants; `jax.jit` keeps one program
    per input shape. Other backends run `loop` eagerly.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # XLA fuses a step's many small ops: on 2 CPU cores cached decoding
        # ran 2.1-4.1x faster than the plain graph (benchmarks/RESULTS.md,
        # "Decoding speed on the CPU").
        return tf.function(loop, jit_compile=True)
    if backend == "jax":
        import jax

        variables = list(variables)

        def pure(values, source):
            with keras.StatelessScope(
                state_mapping=list(zip(variables, values))
            ):
                return loop(source)

        jitted = jax.jit(pure)
        return lambda source: jitted([v.value for v in variables], source)
    return loop


def compiled_loop(model, key, make_loop):
    """The compiled loop for `model` and `key`, made once by `make_loop()`.

    The functions live on the model itself (outside Keras's attribute
    tracking), so they go away with it.
    """
    functions = model.__dict__.get("_attnpred_decoding_functions")
    if functions is None:
        functions = {}
        # object.__setattr__: Keras would otherwise track the dict as state.
        object.__setattr__(model, "_attnpred_decoding_functions", functions)
    if key not in functions:
        functions[key] = compile_for_backend(make_loop(), model.variables)
    return functions[key]


def decoder_key(model, decoder):
    """`"cached"` when `decoder` is `model` itself, else `"uncached"`: part
    of the key of the compiled loops."""
    return "cached" if decoder is model else "uncached"


def check_search_arguments(
    model, source_ids, max_length, start_id, end_id, use_cache
):
    """Validates the arguments every search takes.

    Returns:
        `(max_length, start_id, end_id, source)`: the ints, and the source as
        a NumPy integer array `(batch, S)` with `S >= 1` (an empty source
        becomes one padding column: the same fully padded source, with
        non-empty shapes for the encoder).
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            "`model` must be a `keras.Model`. "
            f"Received: model of type {type(model).__name__}"
        )
    max_length = check_positive_int("max_length", max_length)
    start_id = check_positive_int("start_id", start_id)
    end_id = check_positive_int("end_id", end_id)
    check_bool("use_cache", use_cache)
    if start_id == end_id:
        # The start id is never generated, so the end could never come.
        raise ValueError(
            "`start_id` and `end_id` must differ. "
            f"Received: start_id={start_id}, end_id={end_id}"
        )
    vocabulary_size = getattr(model, "target_vocabulary_size", None)
    if vocabulary_size is None:
        vocabulary_size = model.outputs[0].shape[-1]
    for name, value in (("start_id", start_id), ("end_id", end_id)):
        if vocabulary_size is not None and value >= vocabulary_size:
            raise ValueError(
                f"`{name}` must be a target id, below the model's vocabulary "
                f"size {vocabulary_size}. Received: {name}={value}"
            )
    check_decoding_length(model, max_length)

    try:
        source = keras.ops.convert_to_numpy(source_ids)
    except ValueError:  # e.g. rows of different lengths
        source = np.asarray(source_ids, dtype=object)
    if source.ndim != 2 or not np.issubdtype(source.dtype, np.integer):
        raise ValueError(
            "`source_ids` must be an integer array of shape (batch, length). "
            f"Received: source_ids with shape {source.shape} and dtype "
            f"{source.dtype}"
        )
    _check_source_ids(model, source)
    if source.shape[0] > 0 and source.shape[1] == 0:
        source = np.zeros((source.shape[0], 1), source.dtype)
    return max_length, start_id, end_id, source


def _check_source_ids(model, source):
    # An id outside the embedding table is an error on TensorFlow but a
    # silently clamped lookup on JAX: refuse it before either runs.
    if not source.size:
        return
    vocabulary_size = getattr(model, "source_vocabulary_size", None)
    low, high = int(source.min()), int(source.max())
    if low < 0 or (vocabulary_size is not None and high >= vocabulary_size):
        upper = (
            ""
            if vocabulary_size is None
            else f" and below the source vocabulary size {vocabulary_size}"
        )
        raise ValueError(
            f"`source_ids` must be >= 0{upper}. "
            f"Received: source_ids from {low} to {high}"
        )
