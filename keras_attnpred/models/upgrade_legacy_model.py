"""Models saved before the Backbone/Task classes, rebuilt as those classes."""

import keras

from keras_attnpred.layers import HashedBigramEmbedding
from keras_attnpred.layers import TokenAndPositionEmbedding
from keras_attnpred.layers import TransformerDecoder
from keras_attnpred.layers import TransformerEncoder
from keras_attnpred.layers.dot_product_attention import DotProductAttention
from keras_attnpred.models.electra_pretrainer import ElectraPretrainer
from keras_attnpred.models.masked_language_model import MaskedLanguageModel
from keras_attnpred.models.rnn_encoder_backbone import RNNEncoderBackbone
from keras_attnpred.models.rnn_translator import RNNTranslator
from keras_attnpred.models.text_classifier import TextClassifier
from keras_attnpred.models.transformer_encoder_backbone import (
    TransformerEncoderBackbone,
)
from keras_attnpred.models.transformer_translator import TransformerTranslator

TASK_CLASSES = (
    TextClassifier,
    TransformerTranslator,
    RNNTranslator,
    MaskedLanguageModel,
    ElectraPretrainer,
)


def upgrade_legacy_model(model):
    """The task-class equivalent of a model saved by keras_attnpred < 0.5.

    Earlier versions built every model as a plain functional `keras.Model`
    whose layers had fixed names (`"embedding"`, `"encoder_0"`, ...,
    `"pooling"`, `"logits"`). Such a model is rebuilt here as a
    `TextClassifier`, `TransformerTranslator` or `RNNTranslator` with the same
    sizes, and its weights are copied over, so it predicts exactly as
    before and has the methods decoding, explanations and exports call. A
    model that already is one of these classes is returned as it is.

    Args:
        model: a `keras.Model`, e.g. from `keras.models.load_model`.

    Returns:
        A `TextClassifier`, `TransformerTranslator` or `RNNTranslator`.

    Raises:
        ValueError: `model` is neither one of these classes nor a model that
            an earlier version of the builders made.

    Example:

    >>> legacy = keras.models.load_model(legacy_classifier_path)  # 0.4
    >>> model = upgrade_legacy_model(legacy)
    >>> type(model).__name__
    'TextClassifier'
    >>> ids = np.array([[5, 6, 7, 0]])
    >>> np.allclose(model(ids), legacy(ids), atol=1e-6)
    True
    >>> upgrade_legacy_model(model) is model
    True
    """
    if isinstance(model, TASK_CLASSES):
        return model
    if not isinstance(model, keras.Model):
        raise ValueError(
            "`model` must be a `keras.Model`. "
            f"Received: model of type {type(model).__name__}"
        )
    layers = {layer.name: layer for layer in model.layers}
    for kind in (
        _transformer_classifier,
        _rnn_classifier,
        _transformer_translator,
        _rnn_translator,
    ):
        rebuilt = kind(layers)
        if rebuilt is not None:
            new_model, pairs = rebuilt
            for old, new in pairs:
                new.set_weights(old.get_weights())
            return new_model
    raise ValueError(
        "`model` is not a model of `keras_attnpred.models`: neither a "
        "`TextClassifier`, `TransformerTranslator` or `RNNTranslator` nor a "
        "functional model from an earlier version of their builders. "
        f"Received: model named {model.name!r}"
    )


def _numbered(layers, prefix, kind):
    blocks = []
    while isinstance(layers.get(f"{prefix}_{len(blocks)}"), kind):
        blocks.append(layers[f"{prefix}_{len(blocks)}"])
    return blocks


def _block_settings(block):
    return {
        "num_layers": None,
        "num_heads": block.num_heads,
        "intermediate_dim": block.intermediate_dim,
        "dropout": block.dropout,
        "activation_dropout": block.activation_dropout,
        "normalize_first": block.normalize_first,
        "tie_query_key_init": block.tie_query_key_init,
    }


def _pooling_kind(pooling):
    return {
        "AttentionPooling": "attention",
        "GlobalAveragePooling1D": "mean",
        "FirstTokenPooling": "first",
    }.get(type(pooling).__name__)


def _transformer_classifier(layers):
    embedding = layers.get("embedding")
    encoders = _numbered(layers, "encoder", TransformerEncoder)
    pooling = _pooling_kind(layers.get("pooling"))
    if not (
        isinstance(embedding, TokenAndPositionEmbedding) and encoders and pooling
    ):
        return None
    bigrams = layers.get("bigram_embedding")
    settings = _block_settings(encoders[0])
    settings["num_layers"] = len(encoders)
    backbone = TransformerEncoderBackbone(
        embedding.vocabulary_size,
        embedding.sequence_length,
        model_dim=embedding.embedding_dim,
        bigram_buckets=bigrams.num_buckets
        if isinstance(bigrams, HashedBigramEmbedding)
        else None,
        name="transformer_encoder",
        **settings,
    )
    classifier = TextClassifier(
        backbone,
        layers["logits"].units,
        pooling=pooling,
        dropout=layers["pooling_dropout"].rate,
        name="transformer_classifier",
    )
    pairs = [(embedding, backbone.token_embedding)]
    pairs += list(zip(encoders, backbone.encoder_blocks))
    if backbone.bigram_embedding is not None:
        pairs.append((bigrams, backbone.bigram_embedding))
    return classifier, pairs + _head_pairs(layers, classifier)


def _rnn_classifier(layers):
    embedding, rnn = layers.get("embedding"), layers.get("rnn")
    if not (
        isinstance(embedding, keras.layers.Embedding)
        and isinstance(
            rnn, (keras.layers.Bidirectional, keras.layers.GRU, keras.layers.LSTM)
        )
        and _pooling_kind(layers.get("pooling")) == "attention"
    ):
        return None
    bidirectional = isinstance(rnn, keras.layers.Bidirectional)
    cell = rnn.forward_layer if bidirectional else rnn
    bigrams = layers.get("bigram_embedding")
    backbone = RNNEncoderBackbone(
        embedding.input_dim,
        rnn="lstm" if isinstance(cell, keras.layers.LSTM) else "gru",
        embedding_dim=embedding.output_dim,
        units=cell.units,
        bidirectional=bidirectional,
        dropout=layers["embedding_dropout"].rate,
        bigram_buckets=bigrams.num_buckets
        if isinstance(bigrams, HashedBigramEmbedding)
        else None,
        name="rnn_encoder",
    )
    classifier = TextClassifier(
        backbone,
        layers["logits"].units,
        dropout=layers["pooling_dropout"].rate,
        name="rnn_classifier",
    )
    pairs = [(embedding, backbone.token_embedding), (rnn, backbone.rnn)]
    if backbone.bigram_embedding is not None:
        pairs.append((bigrams, backbone.bigram_embedding))
    return classifier, pairs + _head_pairs(layers, classifier)


def _head_pairs(layers, classifier):
    return [
        (layers["pooling"], classifier.pooling_layer),
        (layers["logits"], classifier.logits_layer),
    ]


def _transformer_translator(layers):
    source = layers.get("source_embedding")
    encoders = _numbered(layers, "encoder", TransformerEncoder)
    decoders = _numbered(layers, "decoder", TransformerDecoder)
    if not (
        isinstance(source, TokenAndPositionEmbedding) and encoders and decoders
    ):
        return None
    encoder_settings = _block_settings(encoders[0])
    encoder_settings["num_layers"] = len(encoders)
    encoder = TransformerEncoderBackbone(
        source.vocabulary_size,
        source.sequence_length,
        model_dim=source.embedding_dim,
        name="transformer_encoder",
        **encoder_settings,
    )
    target = layers["target_embedding"]
    decoder_settings = _block_settings(decoders[0])
    decoder_settings["num_layers"] = len(decoders)
    translator = TransformerTranslator(
        encoder,
        target.vocabulary_size,
        max_length=target.sequence_length,
        name="transformer_translator",
        **decoder_settings,
    )
    pairs = [(source, encoder.token_embedding), (target, translator.target_embedding)]
    pairs += list(zip(encoders, encoder.encoder_blocks))
    pairs += list(zip(decoders, translator.decoder_blocks))
    if encoder.final_norm is not None:
        pairs.append((layers["encoder_final_norm"], encoder.final_norm))
        pairs.append((layers["decoder_final_norm"], translator.decoder_final_norm))
    pairs.append((layers["logits"], translator.logits_layer))
    return translator, pairs


def _rnn_translator(layers):
    source, decoder_rnn = layers.get("source_embedding"), layers.get("decoder_rnn")
    attention = layers.get("attention")
    if not (
        isinstance(source, keras.layers.Embedding)
        and isinstance(decoder_rnn, (keras.layers.GRU, keras.layers.LSTM))
        and attention is not None
    ):
        return None
    luong = isinstance(attention, DotProductAttention)
    translator = RNNTranslator(
        source.input_dim,
        layers["target_embedding"].input_dim,
        attention="luong" if luong else "bahdanau",
        score=attention.score if luong else None,
        rnn="lstm" if isinstance(decoder_rnn, keras.layers.LSTM) else "gru",
        embedding_dim=source.output_dim,
        units=decoder_rnn.units,
        dropout=layers["source_embedding_dropout"].rate,
        name="rnn_translator",
    )
    new = {
        "source_embedding": translator.source_embedding,
        "encoder_rnn": translator.encoder_rnn,
        "encoder_projection": translator.encoder_projection,
        "target_embedding": translator.target_embedding,
        "decoder_rnn": translator.decoder_rnn,
        "attention": translator.attention,
        "attentional_vector": translator.attentional_vector,
        "logits": translator.logits_layer,
    }
    pairs = [(layers[name], layer) for name, layer in new.items()]
    old_states = [layers["initial_state_h"]] + (
        [layers["initial_state_c"]] if "initial_state_c" in layers else []
    )
    pairs += list(zip(old_states, translator.initial_state_projections))
    return translator, pairs
