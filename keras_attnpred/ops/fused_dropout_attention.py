"""Attention dropout inside cuDNN's flash attention kernel (JAX on a GPU).

`keras.ops.dot_product_attention` has no dropout argument, so a layer that
drops attention weights in training must otherwise materialise the
(batch, heads, T, S) weights, draw a random mask over them and keep both for
the backward pass: on an H200 that is 2.8 ms against cuDNN's 1.2 ms for one
(64, 512, 8, 64) bfloat16 attention, forward and backward
(`benchmarks/device/probe_cudnn_dropout.py`).

cuDNN draws the mask itself from a Philox stream: the seed is a constant of
the compiled program and XLA advances the stream's offset at every run of the
kernel, forward and backward in step, so each training step gets a fresh mask
and the backward pass sees the forward's. Two kernels with the same seed in
one program draw the same masks, so each layer needs its own seed.

XLA (JAX 0.11) aborts the process when it records a cuDNN kernel with
dropout into a CUDA graph ("Check failed: local_device_ordinal.has_value()"
in `CudnnGraph::PackOperands`), and it records cuDNN kernels by default. So
the kernel is only used when `XLA_FLAGS` leaves cuDNN out of command
buffers, e.g.
`--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL`.

The kernel is reached through JAX's private
`jax._src.cudnn.fused_attention_stablehlo` (the module behind
`jax.nn.dot_product_attention(implementation="cudnn")`), so anything
unexpected there makes `can_fuse_dropout` say no and the caller keeps its own
path.
"""

import functools
import os
import re

import keras
from keras import ops

# cuDNN's flash attention kernels take head sizes that are multiples of 8 up
# to 128 for the backward pass on every GPU generation it supports.
_MAX_HEAD_DIM = 128


def cudnn_left_out_of_command_buffers(xla_flags):
    """Whether these `XLA_FLAGS` keep cuDNN kernels out of CUDA graphs."""
    found = re.findall(r"--xla_gpu_enable_command_buffer=(\S*)", xla_flags or "")
    if not found:
        return False  # XLA's default list records cuDNN kernels
    kinds = [kind.strip().upper() for kind in found[-1].split(",") if kind]
    if any(kind[:1] in "+-" for kind in kinds):
        # Changes to the default list: cuDNN must be taken out explicitly.
        return "-CUDNN" in kinds
    return "CUDNN" not in kinds


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


def can_fuse_dropout(dtype, head_dim):
    """Whether `fused_dropout_attention` can run heads of this dtype and size.

    Args:
        dtype: the compute dtype of query, key and value.
        head_dim: the size of each query, key and value head.

    Returns:
        `True` with the JAX backend on a GPU with cuDNN, for bfloat16 or
        float16 heads of a size cuDNN's flash kernels accept, when `XLA_FLAGS`
        keep cuDNN out of command buffers (see the module's docstring),
        unless `keras.config.disable_flash_attention()` was called.
    """
    return (
        keras.config.is_flash_attention_enabled() is not False
        and cudnn_left_out_of_command_buffers(os.environ.get("XLA_FLAGS"))
        and keras.backend.standardize_dtype(dtype) in ("bfloat16", "float16")
        and head_dim % 8 == 0
        and head_dim <= _MAX_HEAD_DIM
        and _cudnn_attention_module() is not None
    )


def fused_dropout_attention(
    query, key, value, mask=None, *, scale, is_causal, rate, seed
):
    """Scaled dot-product attention with dropout on the attention weights.

    Only call it where `can_fuse_dropout` is `True`.

    Args:
        query: `(batch, query_length, num_heads, head_dim)`.
        key: `(batch, key_length, num_heads, head_dim)`.
        value: `(batch, key_length, num_heads, head_dim)`.
        mask: optional boolean mask broadcastable to
            `(batch, num_heads, query_length, key_length)`; `True` may be
            attended to.
        scale: the factor of the logits.
        is_causal: whether query step `i` sees only key steps `j <= i`.
        rate: float in (0, 1), the fraction of attention weights dropped;
            the others are scaled by `1 / (1 - rate)`.
        seed: int, the seed of this kernel's masks; give every layer its own.

    Returns:
        `(batch, query_length, num_heads, head_dim)`.
    """
    module = _cudnn_attention_module()
    if mask is not None:
        # cuDNN takes a bias of the full (batch, heads or 1, T, S) shape.
        batch, query_length, num_heads, _ = query.shape
        mask_heads = num_heads if mask.ndim == 4 and mask.shape[1] != 1 else 1
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
