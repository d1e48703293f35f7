"""Copies weights between keras_hub's Transformer blocks and ours, by name."""

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
        ours[name].assign(weight)
