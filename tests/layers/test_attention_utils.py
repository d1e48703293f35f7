import numpy as np
import pytest
from keras import ops

from keras_attnpred.layers.attention_utils import masked_softmax


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
