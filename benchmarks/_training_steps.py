"""Compiled training steps for the speed benchmarks.

The speed benchmarks time the compiled training step itself (the kernels
XLA runs for the forward pass, the backward pass and the optimizer update),
so they drive that step directly, without the epoch loop, callbacks and
data adapters around it. The quality figures come from `attnpred train`
(the quality benchmarks drive the command line).
"""

import keras


def training_steps(model):
    """Returns `run(batches)`: one optimizer step per `(inputs, target)`.

    `model` arrives built and compiled (`model.compile(optimizer=...,
    loss=..., jit_compile=True)`); its `optimizer` and `loss` are used.
    Between steps the weights stay on the device; `run` writes them back
    into the model's variables, waits for the device and returns the loss
    of the last step. jit keeps one program per batch shape.
    """
    loss_fn = keras.losses.get(model.loss)
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)

    def loss_of(target, prediction):
        # A loss function gives a loss per sample; a `Loss` its mean.
        return keras.ops.mean(loss_fn(target, prediction))

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss_and_state(trainable, non_trainable, x, y):
            # The dropout seeds live in the non-trainable variables.
            prediction, non_trainable = model.stateless_call(
                trainable, non_trainable, x, training=True
            )
            return loss_of(y, prediction), non_trainable

        def step(state, x, y):
            trainable, non_trainable, optimizer_state = state
            (loss, non_trainable), grads = jax.value_and_grad(
                loss_and_state, has_aux=True
            )(trainable, non_trainable, x, y)
            trainable, optimizer_state = optimizer.stateless_apply(
                optimizer_state, grads, trainable
            )
            return (trainable, non_trainable, optimizer_state), loss

        # Donating the state lets XLA update the weights in place.
        step = jax.jit(step, donate_argnums=0)
        groups = (
            model.trainable_variables,
            model.non_trainable_variables,
            optimizer.variables,
        )

        def run(batches):
            # The model's variables hold the state between calls, so weights
            # set on the model in between are trained from.
            state = tuple([v.value for v in group] for group in groups)
            for x, y in batches:
                state, loss = step(state, x, y)
            jax.block_until_ready(state)
            for group, values in zip(groups, state):
                for variable, value in zip(group, values):
                    variable.assign(value)
            return float(loss)

        return run
    if backend == "tensorflow":
        import tensorflow as tf

        # Traced once per batch shape, as jax.jit: static shapes for XLA.
        @tf.function(jit_compile=True)
        def tf_step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_of(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
            return loss

        def run(batches):
            for x, y in batches:
                loss = tf_step(x, y)
            return float(loss)  # waits for the device

        return run
    raise ValueError(
        "`training_steps` needs the JAX or TensorFlow backend. "
        f"Received: backend={backend}"
    )
