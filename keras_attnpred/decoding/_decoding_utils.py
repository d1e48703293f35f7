"""Backend compilation and trace counting shared by the decoders."""

import keras

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

    TensorFlow: a `tf.function`, which captures the variables by reference and
    keeps one concrete graph per input shape. JAX: `jax.jit` of a pure
    function that takes the variable values as arguments (set through a
    `keras.StatelessScope`), so later weight updates are seen and the weights
    are not baked into the program as constants; `jax.jit` keeps one program
    per input shape. Other backends run `loop` eagerly.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(loop)
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
