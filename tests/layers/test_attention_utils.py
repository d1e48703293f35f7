import numpy as np
import pytest
from keras import ops

from keras_attnpred.layers.attention_utils import length_attention_available
from keras_attnpred.layers.attention_utils import masked_softmax
from keras_attnpred.layers.attention_utils import right_padded_lengths


@pytest.mark.parametrize("hidden", [np.nan, np.inf, -np.inf, 1e30, -1e30])
def test_hidden_logits_never_reach_the_visible_ones(hidden):
    scores = np.array([[2.0, -1.0, hidden, 0.5], [hidden, hidden, hidden, 1.0],
                       [hidden] * 4], "float32")
    mask = np.array([[1, 1, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], bool)
    weights = ops.convert_to_numpy(masked_softmax(scores, mask))
    visible = np.exp([2.0, -1.0, 0.5]) / np.exp([2.0, -1.0, 0.5]).sum()
    np.testing.assert_allclose(weights[0, [0, 1, 3]], visible, rtol=1e-6)
    np.testing.assert_array_equal(weights[0, 2], 0.0)
    np.testing.assert_array_equal(weights[1], [0.0, 0.0, 0.0, 1.0])
    # A query that sees no key gets no weight, and no NaN.
    np.testing.assert_array_equal(weights[2], 0.0)


@pytest.mark.parametrize(
    "mask, lengths, right_padded",
    [
        ([[1, 1, 0, 0], [1, 1, 1, 1]], [2, 4], True),
        ([[0, 0, 0, 0], [1, 0, 0, 0]], [0, 1], True),
        ([[1, 0, 1, 0], [1, 1, 0, 0]], [2, 2], False),  # a hole mid-row
        ([[0, 1, 1, 1]], [3], False),  # left padding
    ],
)
def test_right_padded_lengths(mask, lengths, right_padded):
    found, is_right_padded = right_padded_lengths(
        np.array(mask, bool), len(mask[0])
    )
    np.testing.assert_array_equal(ops.convert_to_numpy(found), lengths)
    assert bool(ops.convert_to_numpy(is_right_padded)) is right_padded


def test_right_padded_lengths_of_no_mask():
    lengths, right_padded = right_padded_lengths(None, 5)
    assert lengths is None
    assert bool(ops.convert_to_numpy(right_padded))


def test_length_attention_needs_a_gpu_here():
    # This machine has no GPU: the layer must keep the mask kernel.
    x = ops.ones((1, 4, 2, 8), "float16")
    assert not length_attention_available(x, x, x)
