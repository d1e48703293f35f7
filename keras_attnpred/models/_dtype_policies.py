"""Dtype policies for the sublayers of the model classes (private)."""

import keras


def float32_policy(dtype):
    """The policy of a float32 output layer under the model's `dtype`.

    float32, but a `DTypePolicyMap` (a saved model with quantized layers)
    stays a map, so that a quantized output layer is rebuilt quantized.
    """
    if dtype is None:
        return "float32"
    policy = keras.dtype_policies.get(dtype)
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        return keras.dtype_policies.DTypePolicyMap(
            default_policy="float32", policy_map=dict(policy.items())
        )
    return "float32"
