"""Attention dropout inside cuDNN's flash attention kernel (JAX on a GPU).

`keras.ops.dot_product_attention` has no dropout argument, so a layer that
drops attention weights in training must otherwise materialise the
(batch, heads, T, S) weights, draw a random mask over them and keep both for
the backward pass: on an H200 that is 2.8 ms against cuDNN's 1.2 ms for one
(64, 512, 8, 64) bfloat16 attention, forward and backward
(`benchmarks/device/probe_cudnn_dropout.py`).

cuDNN draws the mask itself from a Philox stream. The seed is a constant of
the compiled program, and XLA advances the stream's offset at every run of
the kernel, forward and backward in step: each training step gets a fresh
mask and the backward pass sees the forward's. The offset starts at 0 for
every compiled program and every device, so
- two kernels with the same seed in one program draw the same masks (each
  layer needs its own seed: `new_dropout_seed`);
- a new program (another input shape) or a restarted run repeats the masks
  of the first steps;
- data-parallel replicas would all draw the same masks, so the kernel is not
  used under a `keras.distribution` over several devices. One over a single
  device (what `attnpred train` sets on one GPU) has one replica.

XLA (JAX 0.11) aborts the process when it records a cuDNN kernel with
dropout into a CUDA graph ("Check failed: local_device_ordinal.has_value()"
in `CudnnGraph::PackOperands`), and it records cuDNN kernels by default. So
the kernel is only used when `XLA_FLAGS`, as they were when this module was
imported, keep cuDNN out of command buffers, e.g.
`--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL`. XLA
reads them once, when JAX starts: set them before starting Python.

The kernel is reached through JAX's private
`jax._src.cudnn.fused_attention_stablehlo` (the module behind
`jax.nn.dot_product_attention(implementation="cudnn")`); without it,
`can_fuse_dropout` says no and the caller keeps its own path.
"""

import functools
import os
import random
import re

import keras
import numpy as np
from keras import ops

# cuDNN's flash attention kernels take head sizes that are multiples of 8 up
# to 128 for the backward pass on every GPU generation it supports.
_MAX_HEAD_DIM = 128

# XLA reads XLA_FLAGS once; a later change of the variable reaches XLA only
# in a new process, so the value seen at import is the better guess.
_XLA_FLAGS_AT_IMPORT = os.environ.get("XLA_FLAGS")


def cudnn_left_out_of_command_buffers(xla_flags):
    """Whether these `XLA_FLAGS` keep cuDNN kernels out of CUDA graphs.

    Replays every `--xla_gpu_enable_command_buffer` from XLA's default list
    (which holds CUDNN). A full list replaces the current one. A list of
    changes (`+X,-Y`) is only applied up to its first item by JAX 0.11's XLA,
    so only a leading `-CUDNN` counts as taking cuDNN out.
    """
    cudnn_recorded = True
    for value in re.findall(
        r"--xla_gpu_enable_command_buffer=(\S*)", xla_flags or ""
    ):
        kinds = [
            kind.strip().upper() for kind in value.strip("'\"").split(",")
        ]
        kinds = [kind for kind in kinds if kind]
        if kinds and kinds[0][:1] in "+-":
            if kinds[0][1:] == "CUDNN":
                cudnn_recorded = kinds[0][0] == "+"
        else:
            cudnn_recorded = "CUDNN" in kinds
    return not cudnn_recorded


@functools.cache
def _cudnn_attention_module():
    if keras.backend.backend() != "jax":
        return None
    try:
        import jax
        from jax._src.cudnn import fused_attention_stablehlo as module

        if jax.default_backend() != "gpu":
            return None
        module.check_cudnn_version()
        module.MaskType.CAUSAL  # noqa: B018 (the API this module relies on)
    except Exception:  # no GPU, no cuDNN, or a JAX without this module
        return None
    return module


def can_fuse_dropout(
    dtype, head_dim, query_length=None, key_length=None, has_mask=False
):
    """Whether `fused_dropout_attention` can run these heads in training.

    Args:
        dtype: the compute dtype of query, key and value.
        head_dim: the size of each query, key and value head.
        query_length: int, the query steps.
        key_length: int, the key steps.
        has_mask: bool, whether a mask (not only `is_causal`) is passed.

    Returns:
        `True` with the JAX backend on a GPU with cuDNN, no
        `keras.distribution` over more than one device, `XLA_FLAGS` that keep cuDNN out of command
        buffers (see the module's docstring), bfloat16 or float16 heads of a
        size cuDNN's flash kernels accept and, with a mask, even lengths
        (cuDNN's backward pass with a bias needs them); unless
        `keras.config.disable_flash_attention()` was called.

    Example:

    >>> can_fuse_dropout("float32", 64)  # cuDNN's kernels take 16-bit heads
    False
    >>> can_fuse_dropout("bfloat16", 64, 5, 7, has_mask=True)  # odd lengths
    False
    """
    if has_mask and not all(
        isinstance(length, int) and length % 2 == 0
        for length in (query_length, key_length)
    ):
        return False
    return (
        keras.config.is_flash_attention_enabled() is not False
        and _one_replica(keras.distribution.distribution())
        and cudnn_left_out_of_command_buffers(_XLA_FLAGS_AT_IMPORT)
        and keras.backend.standardize_dtype(dtype) in ("bfloat16", "float16")
        and head_dim % 8 == 0
        and head_dim <= _MAX_HEAD_DIM
        and _cudnn_attention_module() is not None
    )


def _one_replica(distribution):
    if distribution is None:
        return True
    mesh = getattr(distribution, "device_mesh", None)
    return mesh is not None and np.size(mesh.devices) == 1


def new_dropout_seed():
    """A seed for one layer's kernel, from Python's generator.

    `keras.utils.set_random_seed` seeds that generator, as it does Keras's
    default seeds, so runs are repeatable.

    Example:

    >>> keras.utils.set_random_seed(0)
    >>> seed = new_dropout_seed()
    >>> keras.utils.set_random_seed(0)
    >>> new_dropout_seed() == seed, 0 < seed < 2**31
    (True, True)
    """
    return random.randint(1, 2**31 - 1)


def fused_dropout_attention(
    query, key, value, mask=None, *, scale, is_causal, rate, seed
):
    """Scaled dot-product attention with dropout on the attention weights.

    Only call it where `can_fuse_dropout` is `True`.

    Args:
        query: `(batch, query_length, num_heads, head_dim)`.
        key: `(batch, key_length, num_key_value_heads, head_dim)`, with
            `num_heads` a multiple of `num_key_value_heads` (grouped-query
            attention).
        value: like `key`.
        mask: optional mask broadcastable to
            `(batch, num_heads, query_length, key_length)`; nonzero (`True`)
            may be attended to.
        scale: the factor of the logits.
        is_causal: whether query step `i` sees only key steps `j <= i`.
        rate: float in (0, 1), the fraction of attention weights dropped;
            the others are scaled by `1 / (1 - rate)`.
        seed: int, the seed of this kernel's masks; give every layer its own
            (`new_dropout_seed`).

    Returns:
        `(batch, query_length, num_heads, head_dim)`.

    Example:

    >>> q = k = v = keras.random.normal((2, 16, 4, 64), dtype="bfloat16")
    >>> if can_fuse_dropout(q.dtype, 64):  # JAX on a GPU with cuDNN
    ...     out = fused_dropout_attention(
    ...         q, k, v, scale=64**-0.5, is_causal=True, rate=0.1,
    ...         seed=new_dropout_seed())
    ... else:  # the portable path, without attention dropout
    ...     out = keras.ops.dot_product_attention(q, k, v, is_causal=True)
    >>> tuple(out.shape)
    (2, 16, 4, 64)
    """
    module = _cudnn_attention_module()
    if mask is not None:
        # JAX adds a non-boolean mask to the logits as a bias, and cuDNN
        # takes the full (batch, heads or 1, T, S) shape.
        mask = ops.cast(mask, "bool")
        batch, query_length, num_heads, _ = query.shape
        mask_heads = mask.shape[-3] if mask.ndim >= 3 else 1
        mask = ops.broadcast_to(
            mask, (batch, mask_heads, query_length, key.shape[1])
        )
    return module.dot_product_attention(
        query,
        key,
        value,
        mask=mask,
        scale=scale,
        mask_type=(
            module.MaskType.CAUSAL if is_causal else module.MaskType.NO_MASK
        ),
        seed=seed,
        dropout_rate=rate,
        qkv_layout="BTNH",
    )
