"""Argument checks shared by the explain functions (private).

Everything about the models goes through their public methods; this module
only turns ids into arrays.
"""

import numpy as np
from keras import ops


def as_ids(name, ids):
    """`ids` as an int32 NumPy array `(batch, length)`."""
    array = np.asarray(ops.convert_to_numpy(ids))
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"`{name}` must be an integer array of shape (batch, length). "
            f"Received: {name} with shape {array.shape} and dtype {array.dtype}"
        )
    return array.astype("int32")
