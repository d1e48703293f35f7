"""The cuDNN length kernel against the unfused layer, on a GPU only.

Runs where `length_attention_available` holds (Keras on JAX with a CUDA
GPU; skipped elsewhere). Also runnable without pytest on the GPU machine:
`python3 tests/layers/test_length_attention_gpu.py`.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_attnpred.layers import MultiHeadAttention
from keras_attnpred.layers.attention_utils import length_attention_available


def _gpu_case():
    if keras.backend.backend() != "jax":
        return None
    query = ops.ones((2, 8, 2, 64), "bfloat16")
    return query if length_attention_available(query, query, query) else None


def _outputs_and_gradients(layer, x, mask, causal):
    import jax

    layer(x, x)  # build

    def loss(values, x):
        with keras.StatelessScope(
            state_mapping=list(zip(layer.trainable_variables, values))
        ):
            y = layer(x, x, query_mask=mask, value_mask=mask, use_causal_mask=causal)
        return ops.sum(ops.cast(y, "float32") ** 2), y

    values = [v.value for v in layer.trainable_variables]
    (_, y), grads = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(
        values, x
    )
    return np.asarray(y, "float32"), [np.asarray(g, "float32") for g in grads[0]]


@pytest.mark.skipif(_gpu_case() is None, reason="needs Keras on JAX on a CUDA GPU")
@pytest.mark.parametrize("causal", [False, True])
def test_length_kernel_matches_unfused_layer(causal):
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        rng = np.random.default_rng(0)
        x = ops.convert_to_tensor(rng.normal(size=(4, 128, 256)), "float32")
        lengths = np.array([128, 100, 37, 0])
        right_padded = np.arange(128)[None] < lengths[:, None]
        with_hole = right_padded.copy()
        with_hole[0, 5] = False
        fused = MultiHeadAttention(num_heads=4, key_dim=64)
        unfused = MultiHeadAttention(num_heads=4, key_dim=64, use_fused_attention=False)
        fused(x, x)
        unfused(x, x)
        unfused.set_weights(fused.get_weights())
        import jax

        compiled = jax.jit(
            lambda x, m: fused(x, x, query_mask=m, value_mask=m, use_causal_mask=causal)
        ).lower(x, right_padded).compile().as_text()
        assert "cudnn" in compiled.lower() and "fmha" in compiled.lower()
        for mask in (right_padded, with_hole):
            y_fused, g_fused = _outputs_and_gradients(fused, x, mask, causal)
            y_unfused, g_unfused = _outputs_and_gradients(unfused, x, mask, causal)
            assert np.isfinite(y_fused).all()
            # Hidden queries (and the row with no key) give exact zeros.
            assert (y_fused[~mask] == 0).all()
            np.testing.assert_allclose(y_fused, y_unfused, atol=0.05, rtol=0.05)
            for got, want in zip(g_fused, g_unfused):
                assert np.isfinite(got).all()
                scale = np.abs(want).max()
                np.testing.assert_allclose(got / scale, want / scale, atol=0.03)
    finally:
        keras.config.set_dtype_policy("float32")


if __name__ == "__main__":
    assert _gpu_case() is not None, "no cuDNN fused attention here"
    for causal in (False, True):
        test_length_kernel_matches_unfused_layer(causal)
    print("length kernel matches the unfused layer, outputs and gradients")
