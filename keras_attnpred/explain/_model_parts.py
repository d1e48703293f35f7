"""Argument checks shared by the explain functions (private).

Everything about the models goes through their public methods; this module
only turns ids into arrays.
"""

import numpy as np
from keras import ops

from keras_attnpred.models import TransformerTranslator
from keras_attnpred.models import upgrade_legacy_model


def as_ids(name, ids):
    """`ids` as an int32 NumPy array `(batch, length)`."""
    array = np.asarray(ops.convert_to_numpy(ids))
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"`{name}` must be an integer array of shape (batch, length). "
            f"Received: {name} with shape {array.shape} and dtype {array.dtype}"
        )
    return array.astype("int32")


def transformer_translator_parts(model):
    """`{"decoders": blocks}` of a Transformer translator, else None.

    Only for `align_translations`, which reads the layout of its empty
    alignments from it until it moves into the `Translator`; delete this
    together with that file.
    """
    model = upgrade_legacy_model(model)
    if not isinstance(model, TransformerTranslator):
        return None
    return {"decoders": list(model.decoder_blocks)}
