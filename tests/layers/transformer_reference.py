"""Helpers of the Transformer block tests.

`copy_weights_from_keras_hub` copies weights between keras_hub's blocks and
ours, by name; `record_feed_forward_hidden` shows what the feed-forward
network's second dense layer receives, and `assert_hidden_dropout_scale`
checks the dropout there, for the rates of `activation_dropout_cases`.
"""

import numpy as np
import pytest
from keras import ops

_KERAS_HUB_TO_OURS = [
    ("self_attention_layer_norm", "self_attention_norm"),
    ("cross_attention_layer_norm", "cross_attention_norm"),
    ("self_attention_layer/", "self_attention/"),
    ("feedforward_layer_norm", "feed_forward_norm"),
    ("feedforward_intermediate_dense", "feed_forward_intermediate"),
    ("feedforward_output_dense", "feed_forward_output"),
]


def _our_name(keras_hub_path):
    name = keras_hub_path.split("/", 1)[1]
    for theirs, ours in _KERAS_HUB_TO_OURS:
        name = name.replace(theirs, ours)
    return name


def copy_weights_from_keras_hub(keras_hub_layer, our_layer):
    ours = {w.path.split("/", 1)[1]: w for w in our_layer.weights}
    theirs = {_our_name(w.path): w for w in keras_hub_layer.weights}
    assert sorted(ours) == sorted(theirs), (sorted(ours), sorted(theirs))
    for name, weight in theirs.items():
        # Our query, key and value projections merge keras's heads axis.
        ours[name].assign(np.reshape(weight, ours[name].shape))


def record_feed_forward_hidden(layer, monkeypatch):
    """Records the feed-forward hidden activations of a built block's calls.

    Returns a dict that each eager call of `layer` fills with `"before"`, the
    first dense layer's output (after its activation), and `"after"`, what
    the second dense layer received: the two differ only by the dropout on
    the hidden activations.
    """
    seen = {}

    def spy(dense, key, record_inputs):
        call = dense.call

        def recording_call(inputs, *args, **kwargs):
            outputs = call(inputs, *args, **kwargs)
            recorded = inputs if record_inputs else outputs
            seen[key] = ops.convert_to_numpy(recorded)
            return outputs

        monkeypatch.setattr(dense, "call", recording_call)

    spy(layer._intermediate_dense, "before", record_inputs=False)
    spy(layer._output_dense, "after", record_inputs=True)
    return seen


# (activation_dropout, the scale of the kept hidden units with dropout 0.5).
activation_dropout_cases = pytest.mark.parametrize(
    "activation_dropout, scale",
    [(None, 2.0), (0.2, 1.25), (0.0, None)],
    ids=["none_means_dropout", "own_rate", "zero_keeps_all"],
)


def assert_hidden_dropout_scale(layer, call_training, scale, monkeypatch):
    """Checks the dropout on a built block's feed-forward hidden activations.

    `call_training()` calls `layer` with `training=True`. `scale` is the
    factor of the kept activations (1 / (1 - rate)), or None when nothing
    may be dropped there.
    """
    seen = record_feed_forward_hidden(layer, monkeypatch)
    call_training()
    before, after = seen["before"], seen["after"]
    if scale is None:
        # The block's other dropout still drops elsewhere, but not here.
        np.testing.assert_array_equal(after, before)
        return
    kept = after != 0
    assert (~kept & (before > 0)).any(), "no hidden activation was dropped"
    np.testing.assert_allclose(after[kept], before[kept] * scale, rtol=1e-5)
