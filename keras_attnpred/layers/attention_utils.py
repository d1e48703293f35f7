"""Helpers shared by the attention layers: argument checks, masks, softmax,
initializers, the dtype of quantized sublayers.

Masks follow the Keras convention everywhere: `True` (or 1) marks a position
that may be attended to, `False` (or 0) one that must be hidden.
"""

import keras
from keras import ops
from keras.src.backend import get_keras_mask

# Hidden logits are set this far below the row's smallest logit: their
# softmax share is at most exp(-30) ~ 1e-13 of the largest term, below float32
# resolution, and they are zeroed afterwards anyway. A relative value rather
# than a huge constant (-1e9) keeps the tensor's range small, which int8
# quantization (TFLite) needs, and stays finite, so a fully masked row never
# produces `inf - inf = NaN`.
_MASKED_LOGIT_MARGIN = 30.0


def check_known_features(name, shape, axis=-1):
    """Raises a `ValueError` unless `shape[axis]` is statically known."""
    if shape[axis] is None:
        raise ValueError(
            f"The feature size of `{name}` must be known. "
            f"Received: {name}.shape={tuple(shape)}"
        )


def check_rank(name, shape, ranks):
    """Raises a `ValueError` naming `name` unless `len(shape)` is in `ranks`."""
    if len(shape) not in ranks:
        expected = " or ".join(str(rank) for rank in ranks)
        raise ValueError(
            f"`{name}` must have rank {expected}. "
            f"Received: {name}.shape={tuple(shape)}"
        )


def check_same_dim(name_a, dim_a, name_b, dim_b):
    """Raises a `ValueError` when two known feature sizes differ."""
    if dim_a is not None and dim_b is not None and dim_a != dim_b:
        raise ValueError(
            f"The last dimension of `{name_a}` and `{name_b}` must match. "
            f"Received: {name_a}.shape[-1]={dim_a}, "
            f"{name_b}.shape[-1]={dim_b}"
        )


def padding_mask_of(inputs, padding_mask=None):
    """The Keras mask attached to `inputs`, AND-ed with `padding_mask`.

    Layers with several tensor arguments don't get `mask` filled in by Keras,
    so they read it here; an explicit padding mask never replaces it.
    Keras has no public getter for the attached mask (keras_hub reads it the
    same way).
    """
    return merge_masks(get_keras_mask(inputs), padding_mask)


def causal_mask(query_length, key_length, offset=0):
    """Boolean mask of shape `(1, query_length, key_length)`.

    Query step `i` may attend to key step `j` iff `j <= i + offset`. The offset
    is the position of the first query step, which is what a decoder working
    one step at a time through a key/value cache needs.
    """
    query_positions = ops.arange(query_length, dtype="int32")[:, None]
    key_positions = ops.arange(key_length, dtype="int32")[None, :]
    offset = ops.cast(offset, "int32")
    return ops.expand_dims(key_positions <= query_positions + offset, 0)


def merge_masks(*masks):
    """Logical AND of broadcastable masks, skipping `None`s."""
    merged = None
    for mask in masks:
        if mask is None:
            continue
        mask = ops.cast(mask, "bool")
        merged = mask if merged is None else ops.logical_and(merged, mask)
    return merged


def attention_mask_from_padding(
    query_mask=None, key_mask=None, attention_mask=None
):
    """Combines padding masks into a `(batch, query_len, key_len)` mask.

    Args:
        query_mask: `(batch, query_len)` padding mask of the queries, or None.
        key_mask: `(batch, key_len)` padding mask of the keys, or None.
        attention_mask: a mask broadcastable to `(batch, query_len, key_len)`,
            or None.

    Returns:
        A boolean mask, or None when every argument is None.
    """
    if query_mask is not None:
        query_mask = ops.expand_dims(ops.cast(query_mask, "bool"), -1)
    if key_mask is not None:
        key_mask = ops.expand_dims(ops.cast(key_mask, "bool"), -2)
    return merge_masks(query_mask, key_mask, attention_mask)


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax in float32 that gives exactly zero weight to hidden positions.

    A row whose positions are all hidden gets all-zero weights rather than NaN
    or a uniform spread over padding.

    Args:
        scores: attention logits, any float dtype.
        mask: boolean mask broadcastable to `scores`, or None.
        axis: the axis to normalise over.

    Returns:
        float32 weights with the shape of `scores`.
    """
    scores = ops.cast(scores, "float32")
    if mask is None:
        return _softmax(scores, axis)
    mask = ops.cast(mask, "bool")
    # The floor comes from the visible logits only, so whatever a hidden
    # position holds (even inf or NaN) cannot reach the real ones.
    floor = ops.stop_gradient(
        ops.min(ops.where(mask, scores, 0.0), axis=axis, keepdims=True)
    )
    scores = ops.where(mask, scores, floor - _MASKED_LOGIT_MARGIN)
    weights = _softmax(scores, axis)
    return weights * ops.cast(mask, weights.dtype)


def _softmax(scores, axis):
    # One position (a one-token text, a one-token source) is a real case:
    # its weight is 1. `ops.softmax` would warn that this is likely a
    # mistake; exp(x - x) gives the same 1 (NaN stays NaN), gradient 0.
    if scores.shape[axis] == 1:
        return ops.exp(scores - scores)
    return ops.softmax(scores, axis=axis)


def check_same_length(name_a, length_a, name_b, length_b):
    """Raises a `ValueError` when two known sequence lengths differ."""
    if length_a is not None and length_b is not None and length_a != length_b:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same length. "
            f"Received: {name_a}.shape[1]={length_a}, "
            f"{name_b}.shape[1]={length_b}"
        )


def fresh_initializer(initializer):
    """A copy of `initializer` for one sublayer, with a seed of its own.

    An unseeded Keras initializer fixes a random seed when it is created, so
    sublayers handed the same instance start from the same numbers: the
    query, key, value and output projections of one shape would be equal.
    The copy draws a new seed (as Keras's `MultiHeadAttention` does); an
    initializer given an explicit seed keeps it.
    """
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    return initializer.__class__.from_config(initializer.get_config())


def dtype_with_quantized_sublayers(layer):
    """`layer`'s serialized dtype policy for `get_config`.

    `Model.quantize` quantizes leaf layers (`Dense`, `EinsumDense`,
    `Embedding`) in place, but a layer that builds its own sublayers builds
    them from its config again when loaded, unquantized, and the saved
    quantized weights no longer fit. When some sublayer is quantized, the
    policy is saved as a `DTypePolicyMap` from those sublayers' paths to their
    policies (as keras-hub's backbones do); the sublayers, handed that map as
    their dtype, then build quantized variables.
    """
    policy = layer.dtype_policy
    quantized = {}
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        # Loaded with quantized sublayers, perhaps not built yet.
        quantized.update(policy.items())
        policy = policy.default_policy
    quantized.update(
        (sublayer.path, _own_policy(sublayer))
        for sublayer in layer._flatten_layers(include_self=False)
        if sublayer.quantization_mode is not None
    )
    if quantized:
        policy = keras.dtype_policies.DTypePolicyMap(
            default_policy=policy, policy_map=quantized
        )
    return keras.dtype_policies.serialize(policy)


def sublayer_dtype(layer, dtype):
    """The dtype for a sublayer of `layer` that computes in `dtype`, not in
    `layer`'s policy, keeping the quantized sublayers of a loaded layer
    (`dtype_with_quantized_sublayers`)."""
    policy = layer.dtype_policy
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        return keras.dtype_policies.DTypePolicyMap(
            default_policy=dtype, policy_map=dict(policy.items())
        )
    return dtype


def _own_policy(layer):
    policy = layer.dtype_policy
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        return policy[layer.path]
    return policy
