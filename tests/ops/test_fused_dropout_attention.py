"""cuDNN attention dropout: the GPU tests run only where the kernel exists.

On the GPU machine (Keras on JAX):

    XLA_FLAGS=--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL \\
        python3 -m pytest tests/ops -p no:cacheprovider
"""

import importlib
import types

import keras
import numpy as np
import pytest

from keras_attnpred import layers
from keras_attnpred import ops as attnpred_ops
from keras_attnpred.layers import multi_head_attention as mha_module
from keras_attnpred.ops.fused_dropout_attention import (
    cudnn_left_out_of_command_buffers,
)

# The module, not the function of the same name that `ops` exports.
kernel_module = importlib.import_module("keras_attnpred.ops.fused_dropout_attention")

GOOD_FLAGS = "--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL"

on_cudnn = pytest.mark.skipif(
    not attnpred_ops.can_fuse_dropout("bfloat16", 64),
    reason="needs the JAX backend on a GPU with cuDNN, started with "
    f"XLA_FLAGS={GOOD_FLAGS}",
)


@pytest.fixture
def kernel_calls(monkeypatch):
    """The real kernel, behind a spy: a list of each call's
    `(query length, key length, is_causal, seed)` as the layers trace it."""
    kernel = mha_module.fused_dropout_attention
    calls = []

    def spy(query, key, *args, **kwargs):
        calls.append(
            (query.shape[1], key.shape[1], kwargs["is_causal"], kwargs["seed"])
        )
        return kernel(query, key, *args, **kwargs)

    monkeypatch.setattr(mha_module, "fused_dropout_attention", spy)
    return calls


@pytest.fixture
def kernel_available(monkeypatch):
    """What the GPU machine with the right XLA_FLAGS looks like to the checks."""
    monkeypatch.setattr(kernel_module, "_cudnn_attention_module", lambda: object())
    monkeypatch.setattr(kernel_module, "_XLA_FLAGS_AT_IMPORT", GOOD_FLAGS)


def test_fused_dropout_needs_small_16_bit_heads(kernel_available):
    assert attnpred_ops.can_fuse_dropout("bfloat16", 64)
    assert attnpred_ops.can_fuse_dropout("float16", 128)
    assert not attnpred_ops.can_fuse_dropout("float32", 64)
    assert not attnpred_ops.can_fuse_dropout("bfloat16", 12)
    assert not attnpred_ops.can_fuse_dropout("bfloat16", 256)


def test_fused_dropout_with_a_mask_needs_even_lengths(kernel_available):
    # cuDNN's backward pass with a bias rejects odd lengths.
    can_fuse = attnpred_ops.can_fuse_dropout
    assert can_fuse("bfloat16", 64, 10, 16, has_mask=True)
    assert not can_fuse("bfloat16", 64, 9, 16, has_mask=True)
    assert not can_fuse("bfloat16", 64, 10, 15, has_mask=True)
    assert not can_fuse("bfloat16", 64, None, 16, has_mask=True)
    assert can_fuse("bfloat16", 64, 9, 15, has_mask=False)


@pytest.mark.parametrize(
    "xla_flags, left_out",
    [
        (None, False),
        ("--xla_gpu_autotune_level=2", False),
        ("--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUDNN", False),
        ("--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUSTOM_CALL", True),
        ("--xla_gpu_enable_command_buffer='FUSION,CUBLAS,CUSTOM_CALL'", True),
        ('--xla_gpu_enable_command_buffer="FUSION,CUDNN"', False),
        ("--xla_gpu_enable_command_buffer=", True),
        ("--xla_gpu_enable_command_buffer=+WHILE", False),
        ("--xla_gpu_enable_command_buffer=-CUDNN", True),
        ("--xla_gpu_enable_command_buffer=-cudnn,+WHILE", True),
        # XLA applies only the first item of a list of changes.
        ("--xla_gpu_enable_command_buffer=+WHILE,-CUDNN", False),
        ("--xla_gpu_enable_command_buffer=-FUSION,-CUDNN", False),
        # Occurrences apply in turn: a full list replaces, a change edits.
        (
            "--xla_gpu_enable_command_buffer= "
            "--xla_gpu_enable_command_buffer=FUSION,CUDNN",
            False,
        ),
        (
            "--xla_gpu_enable_command_buffer=FUSION,CUDNN "
            "--xla_gpu_enable_command_buffer=-CUDNN",
            True,
        ),
        (
            "--xla_gpu_enable_command_buffer=FUSION "
            "--xla_gpu_enable_command_buffer=+CUDNN",
            False,
        ),
    ],
)
def test_command_buffer_flags_that_keep_cudnn_out(xla_flags, left_out):
    assert cudnn_left_out_of_command_buffers(xla_flags) is left_out


def test_no_fused_dropout_when_cudnn_kernels_go_into_cuda_graphs(
    kernel_available, monkeypatch
):
    # Recording a cuDNN dropout kernel into a CUDA graph aborts XLA.
    monkeypatch.setattr(
        kernel_module,
        "_XLA_FLAGS_AT_IMPORT",
        "--xla_gpu_enable_command_buffer=FUSION,CUDNN",
    )
    assert not attnpred_ops.can_fuse_dropout("bfloat16", 64)


def test_no_fused_dropout_when_flash_attention_is_disabled(kernel_available):
    keras.config.disable_flash_attention()
    try:
        assert not attnpred_ops.can_fuse_dropout("bfloat16", 64)
    finally:
        keras.config.enable_flash_attention()  # back to the default, None


def _distribution_over(num_devices):
    mesh = types.SimpleNamespace(devices=np.array(["gpu"] * num_devices))
    return types.SimpleNamespace(device_mesh=mesh)


@pytest.mark.parametrize(
    "distribution, fused",
    [
        (object(), False),  # no mesh to count replicas on
        (_distribution_over(2), False),
        (_distribution_over(8), False),
        (_distribution_over(1), True),  # `attnpred train` on one GPU
    ],
)
def test_fused_dropout_only_under_one_replica(
    kernel_available, monkeypatch, distribution, fused
):
    # Replicas would all draw the same masks.
    monkeypatch.setattr(keras.distribution, "distribution", lambda: distribution)
    assert attnpred_ops.can_fuse_dropout("bfloat16", 64) is fused


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="keras.distribution is JAX's"
)
def test_fused_dropout_under_the_training_path_distribution_of_one_device(
    kernel_available,
):
    one_device = keras.distribution.DataParallel(
        devices=keras.distribution.list_devices()[:1]
    )
    with one_device.scope():
        assert attnpred_ops.can_fuse_dropout("bfloat16", 64)
    if len(keras.distribution.list_devices()) > 1:
        from keras_attnpred.training import get_strategy

        with get_strategy("auto").scope():
            assert not attnpred_ops.can_fuse_dropout("bfloat16", 64)


def test_no_fused_dropout_without_a_gpu(monkeypatch):
    if keras.backend.backend() == "jax":
        import jax

        if jax.default_backend() == "gpu":
            pytest.skip("this machine has a GPU")
    # Everything else allows the kernel: only the missing GPU says no.
    monkeypatch.setattr(kernel_module, "_XLA_FLAGS_AT_IMPORT", GOOD_FLAGS)
    assert not attnpred_ops.can_fuse_dropout("bfloat16", 64)


def _identity_values(batch, length, heads):
    """Values whose attention output is the (dropped) weight matrix itself."""
    eye = np.eye(length, dtype="float32")[None, :, None, :]
    return np.broadcast_to(eye, (batch, length, heads, length)).astype("bfloat16")


def _random_heads(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype("bfloat16")


def _dropped_weights(rate, seed, mask=None, is_causal=False):
    """Runs the kernel with identity values: output [b, i, n, j] = W[b, n, i, j]."""
    import jax

    q = _random_heads((2, 64, 2, 64), 0)
    k = _random_heads((2, 64, 2, 64), 1)
    v = _identity_values(2, 64, 2)
    fn = jax.jit(
        lambda q, k, v: attnpred_ops.fused_dropout_attention(
            q, k, v, mask, scale=0.125, is_causal=is_causal, rate=rate, seed=seed
        )
    )
    return fn, (q, k, v)


@on_cudnn
def test_backward_pass_uses_the_forward_mask():
    import jax

    fn, (q, k, v) = _dropped_weights(0.25, seed=7)
    cotangent = _identity_values(2, 64, 2)

    @jax.jit
    def forward_and_value_gradient(q, k, v):
        out, vjp = jax.vjp(lambda v: fn(q, k, v), v)
        return out, vjp(cotangent)[0]

    out, grad_v = forward_and_value_gradient(q, k, v)
    weights = np.asarray(out, "float32")  # [b, i, n, j]
    # grad_v[b, j, n, i] = W[b, n, i, j] for an identity cotangent.
    from_gradient = np.transpose(np.asarray(grad_v, "float32"), (0, 3, 2, 1))
    assert (weights == 0).mean() > 0.2
    np.testing.assert_array_equal(weights == 0, from_gradient == 0)
    np.testing.assert_allclose(weights, from_gradient, atol=4e-3)


@on_cudnn
def test_drops_the_rate_and_scales_the_rest():
    fn, args = _dropped_weights(0.25, seed=7)
    kept_fn, _ = _dropped_weights(0.0, seed=7)
    dropped = np.asarray(fn(*args), "float32")
    full = np.asarray(kept_fn(*args), "float32")
    dropped_share = (dropped == 0).mean()
    assert 0.23 < dropped_share < 0.27, dropped_share
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], full[kept] / 0.75, rtol=2e-2)


@on_cudnn
def test_masks_change_every_call_and_with_the_seed():
    fn, args = _dropped_weights(0.25, seed=7)
    other_seed, _ = _dropped_weights(0.25, seed=8)
    first = np.asarray(fn(*args)) == 0
    second = np.asarray(fn(*args)) == 0
    third = np.asarray(other_seed(*args)) == 0
    # Independent masks at rate 0.25 agree on 0.75^2 + 0.25^2 = 62.5%.
    assert abs((first == second).mean() - 0.625) < 0.02
    assert abs((first == third).mean() - 0.625) < 0.02


@on_cudnn
def test_padding_and_causal_masks_still_hide_keys():
    padding = np.arange(64)[None, None, None, :] < np.array([40, 64])[:, None, None, None]
    fn, args = _dropped_weights(0.25, seed=7, mask=padding)
    weights = np.asarray(fn(*args), "float32")
    assert np.abs(weights[0, :, :, 40:]).max() == 0
    assert (weights[1, :, :, 40:] != 0).any()
    causal_fn, args = _dropped_weights(0.25, seed=7, is_causal=True)
    weights = np.asarray(causal_fn(*args), "float32")
    future = np.triu(np.ones((64, 64), bool), k=1)[None, :, None, :]
    assert np.abs(np.where(future, weights, 0)).max() == 0
    both_fn, args = _dropped_weights(0.25, seed=7, mask=padding, is_causal=True)
    weights = np.asarray(both_fn(*args), "float32")
    assert np.abs(np.where(future, weights, 0)).max() == 0
    assert np.abs(weights[0, :, :, 40:]).max() == 0


@on_cudnn
@pytest.mark.parametrize("num_key_value_heads", [None, 1])
def test_layer_trains_through_the_kernel_and_averages_to_inference(
    dtype_policy, kernel_calls, num_key_value_heads
):
    import jax

    dtype_policy("mixed_bfloat16")
    layer = layers.MultiHeadAttention(
        num_heads=2, key_dim=64, dropout=0.2,
        num_key_value_heads=num_key_value_heads,
    )
    other = layers.MultiHeadAttention(num_heads=2, key_dim=64, dropout=0.2)
    x = np.random.default_rng(0).standard_normal((4, 32, 128)).astype("float32")
    inference = np.asarray(layer(x, x), "float32")
    other(x, x)
    train = jax.jit(lambda x: layer(x, x, training=True))
    other(x, x, training=True)
    samples = np.stack([np.asarray(train(x), "float32") for _ in range(400)])
    # Traced once per layer, two seeds.
    assert len({seed for *_, seed in kernel_calls}) == 2
    assert not np.allclose(samples[0], samples[1])
    # E[dropout(W)] = W: the mean of many training outputs nears inference.
    error = np.abs(samples.mean(axis=0) - inference).mean()
    assert error < 0.05 * np.abs(inference).mean(), error


@on_cudnn
def test_padded_queries_give_zeros_and_odd_lengths_fall_back(
    dtype_policy, kernel_calls
):
    import jax

    dtype_policy("mixed_bfloat16")
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=64, dropout=0.2)
    rng = np.random.default_rng(0)
    built = rng.standard_normal((2, 10, 128)).astype("float32")
    layer(built, built)  # builds the weights outside jit
    for length in (10, 9):  # cuDNN takes a mask with even lengths only
        x = rng.standard_normal((2, length, 128)).astype("float32")
        padding = np.arange(length)[None, :] < np.array([[6], [length]])
        output = jax.jit(
            lambda x, m: layer(x, x, query_mask=m, value_mask=m, training=True)
        )(x, padding)
        output = np.asarray(output, "float32")
        assert np.isfinite(output).all()
        # A padded query sees no key: zeros, as on the explicit path.
        assert np.abs(output[0, 6:]).max() == 0
        assert np.abs(output[0, :6]).max() > 0
    assert [query_length for query_length, *_ in kernel_calls] == [10]


def test_layer_hands_dropout_training_to_the_kernel_with_its_masks(monkeypatch):
    """The wiring, on any machine: a stand-in kernel records what it gets."""
    from keras import ops

    received = []

    def stand_in(query, key, value, mask=None, **kwargs):
        received.append({"mask": mask, **kwargs})
        return ops.dot_product_attention(
            query, key, value, mask=mask, scale=kwargs["scale"],
            is_causal=kwargs["is_causal"],
        )

    monkeypatch.setattr(mha_module, "can_fuse_dropout", lambda *a, **kw: True)
    monkeypatch.setattr(mha_module, "fused_dropout_attention", stand_in)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.3)
    other = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.3)
    x = np.random.default_rng(0).standard_normal((2, 5, 16)).astype("float32")
    padding = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)

    layer(x, x)  # inference: no dropout, the plain fused path
    layer(x, x, training=True, return_attention_scores=True)  # needs weights
    assert received == []

    output = layer(x, x, value_mask=padding, training=True)
    layer(x, x, use_causal_mask=True, training=True)
    other(x, x, training=True)
    padded, causal, from_other = received
    assert padded["rate"] == 0.3
    assert padded["scale"] == pytest.approx(8**-0.5)
    assert not padded["is_causal"] and causal["is_causal"]
    np.testing.assert_array_equal(
        ops.convert_to_numpy(padded["mask"])[:, 0, 0], padding
    )
    assert causal["mask"] is None  # the kernel's own causal mask
    assert padded["seed"] == causal["seed"] != from_other["seed"]
    # The stand-in drops nothing: the output is the inference output.
    np.testing.assert_allclose(
        ops.convert_to_numpy(output),
        ops.convert_to_numpy(layer(x, x, value_mask=padding)),
        atol=1e-5,
    )


@on_cudnn
def test_translator_trains_with_dropout_in_every_attention(
    dtype_policy, kernel_calls
):
    """Self-attention (causal) and cross-attention (target and source of
    different lengths, a source padding mask) all go through the kernel."""
    from keras_attnpred.models import build_transformer_translator

    dtype_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    model = build_transformer_translator(64, 64, 24, preset="tiny", dropout=0.2)
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    rng = np.random.default_rng(0)
    source = rng.integers(4, 64, (64, 16)).astype("int32")
    source[:, 12:] = 0
    target = np.concatenate([np.full((64, 1), 2), source[:, :9] % 60 + 4], 1)
    target = target.astype("int32")
    labels = np.roll(target, -1, axis=1)
    history = model.fit(
        {"source": source, "target": target}, labels, epochs=8, batch_size=16,
        verbose=0,
    )
    losses = history.history["loss"]
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.8 * losses[0], losses
    shapes = {(q, k, causal) for q, k, causal, _ in kernel_calls}
    assert (16, 16, False) in shapes  # encoder self-attention
    assert (10, 10, True) in shapes  # decoder self-attention, causal
    assert (10, 16, False) in shapes  # cross-attention
