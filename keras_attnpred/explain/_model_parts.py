"""Finding and running the attention layers of the package's models (private).

The builders of `keras_attnpred.models` name their layers (see their
docstrings); these helpers rely on those names. Every pass runs without
dropout, so the weights are those of inference.
"""

import keras
import numpy as np
from keras import ops

from keras_attnpred.models._model_utils import numbered_layers
from keras_attnpred.decoding._step_decoders import PAD_ID
from keras_attnpred.decoding._step_decoders import TransformerSteps
from keras_attnpred.layers import HashedBigramEmbedding
from keras_attnpred.layers import TokenAndPositionEmbedding
from keras_attnpred.layers import TransformerEncoder
from keras_attnpred.layers._luong_bahdanau_base import BaseScoredAttention


def check_model(model):
    if not isinstance(model, keras.Model):
        raise ValueError(
            "`model` must be a `keras.Model`. "
            f"Received: model of type {type(model).__name__}"
        )


def as_ids(name, ids):
    """`ids` as an int32 NumPy array `(batch, length)`."""
    array = np.asarray(ops.convert_to_numpy(ids))
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"`{name}` must be an integer array of shape (batch, length). "
            f"Received: {name} with shape {array.shape} and dtype {array.dtype}"
        )
    return array.astype("int32")


def padding_mask(ids):
    """`True` at the real tokens: every builder pads with id 0."""
    return ids != PAD_ID


def layer_or_none(model, name):
    try:
        return model.get_layer(name)
    except ValueError:
        return None


def transformer_encoder_parts(model):
    """`(embedding, encoders)` of a Transformer classifier or translator.

    Returns None when the model has no `TokenAndPositionEmbedding` named
    `"embedding"` (classifier) or `"source_embedding"` (translator) followed
    by `TransformerEncoder` blocks `"encoder_0"`, ... With a
    `"bigram_embedding"` layer, `embedding` adds its output, as the model
    does.
    """
    for name in ("embedding", "source_embedding"):
        embedding = layer_or_none(model, name)
        if isinstance(embedding, TokenAndPositionEmbedding):
            encoders = numbered_layers(model, "encoder", TransformerEncoder)
            if encoders:
                bigrams = layer_or_none(model, "bigram_embedding")
                if isinstance(bigrams, HashedBigramEmbedding):
                    embedding = _SummedEmbedding(embedding, bigrams)
                return embedding, encoders
    return None


class _SummedEmbedding:
    """A classifier's token embedding plus its bigram embedding, summed as
    the builders sum them, so that the encoders see the model's inputs."""

    def __init__(self, embedding, bigrams):
        self.embedding = embedding
        self.bigrams = bigrams

    def compute_mask(self, ids):
        return self.embedding.compute_mask(ids)

    def __call__(self, ids):
        return self.embedding(ids) + self.bigrams(ids)


def encode(embedding, encoders, ids, return_attention_scores=False):
    """Runs the embedding and the encoder blocks eagerly, as in inference.

    Returns the encoder output and the mask, plus the list of each block's
    self-attention weights `(batch, heads, T, T)` when asked for.
    """
    ids = ops.convert_to_tensor(ids, dtype="int32")
    mask = embedding.compute_mask(ids)
    x = embedding(ids)
    scores = []
    for encoder in encoders:
        outputs = encoder(
            x,
            padding_mask=mask,
            return_attention_scores=return_attention_scores,
            training=False,
        )
        if return_attention_scores:
            x, weights = outputs
            scores.append(weights)
        else:
            x = outputs
    if return_attention_scores:
        return x, mask, scores
    return x, mask


def transformer_translator_parts(model):
    """The named layers of a `build_transformer_translator` model, or None."""
    return TransformerSteps.parts(model)


def rnn_attention(model):
    """The `"attention"` layer of an RNN translator, or None."""
    layer = layer_or_none(model, "attention")
    return layer if isinstance(layer, BaseScoredAttention) else None


def cached_submodel(model, key, make):
    """A sub-model built once per model (kept outside Keras's tracking)."""
    submodels = model.__dict__.get("_attnpred_explain_submodels")
    if submodels is None:
        submodels = {}
        object.__setattr__(model, "_attnpred_explain_submodels", submodels)
    if key not in submodels:
        submodels[key] = make()
    return submodels[key]
