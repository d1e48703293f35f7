import os

import tensorflow as tf

from keras_attnpred.decoding import check_decoding_length
from keras_attnpred.export import _export_utils as utils
from keras_attnpred.export.export_classifier_tflite import _convert
from keras_attnpred.export.export_classifier_tflite import _write
from keras_attnpred.models import RNNTranslator
from keras_attnpred.models import TransformerTranslator
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.validation import check_positive_int

CONFIG_FILENAME = "translator.json"
ENCODER_FILENAME = "encoder.tflite"
DECODER_FILENAME = "decoder_step.tflite"
SOURCE_TOKENIZER_DIRNAME = "source_tokenizer"
TARGET_TOKENIZER_DIRNAME = "target_tokenizer"


def export_translator_tflite(translator, out_dir, batch_size=1):
    """Exports a translator as two float32 TFLite models.

    The search loop stays outside, in the app (or `TFLiteTranslator`): an
    encoder that runs once per sentence and a decoder that runs once per
    generated token, both with TFLite built-in ops only and fixed shapes
    (`S` = the translator's `max_length`, `B` = `batch_size`). For a
    Transformer (`L` decoder layers), the decoder reads key/value caches:

    - `encoder.tflite`: `source_ids` int32 `(B, S)`, 0-padded ->
      `cross_cache_0` ... `cross_cache_{L-1}` float32
      `(B, 2, S, heads, head_size)` (each decoder layer's projected keys and
      values of the encoded source).
    - `decoder_step.tflite`: `token` int32 `(B, 1)` (the token at position
      `index`: `[START]` first), `index` int32 scalar, `source_ids`, the
      `cross_cache_i` and `self_cache_i` `(B, 2, S, heads, head_size)`
      (zeros at the start) -> `logits` float32 `(B, vocabulary)` and the
      updated `self_cache_i`, to feed back at the next step.

    Greedy decoding with them gives the tokens of
    `keras_attnpred.decoding.greedy_search` (`TFLiteTranslator` does it).
    Also written: the two tokenizers (their `save` layout: the vocabulary
    files a mobile WordPiece tokenizer needs, or the SentencePiece model) and
    `translator.json` (`max_length`, `batch_size`, the reserved ids, the
    `"decoder"`, `"transformer"` or `"rnn"`, and its cache or state count). A model that `Model.quantize` made int8 or float8
    is refused with a `ValueError`: the converter rejects those layers.

    Args:
        translator: a `keras_attnpred.inference.Translator`, a directory it
            loads from, or a `TrainingRun`, of a `TransformerTranslator` or
            an `RNNTranslator`.
        out_dir: str, the folder to write (created if missing).
        batch_size: int, the fixed batch of both models.

    Returns:
        A dict with the paths of `"encoder"` and `"decoder_step"`.

    Example:

    >>> paths = export_translator_tflite(translator, "mobile/en-es")
    >>> sorted(paths)
    ['decoder_step', 'encoder']
    >>> import os
    >>> sorted(os.listdir("mobile/en-es"))  # ... and the tokenizers
    ['decoder_step.tflite', 'encoder.tflite', 'source_tokenizer',
     'target_tokenizer', 'translator.json']
    >>> texts = ["the cat eats fish", ""]
    >>> TFLiteTranslator("mobile/en-es").translate(texts) == (
    ...     translator.translate(texts))
    True
    """
    utils.require_tensorflow_backend()
    translator = utils.as_translator(translator)
    batch_size = check_positive_int("batch_size", batch_size)
    model = translator.model
    if not isinstance(model, (TransformerTranslator, RNNTranslator)):
        raise ValueError(
            "The TFLite translator export needs a `TransformerTranslator` or "
            "an `RNNTranslator` (their `start_decoding` and `decode_step` "
            f"give the decoder step). Received: a {type(model).__name__} "
            f"named {model.name!r}"
        )
    utils.check_convertible_quantization(model, classification=False)
    length = translator.max_length
    check_decoding_length(model, length)
    target = translator.target_tokenizer
    source_spec = tf.TensorSpec(
        [batch_size, length], tf.int32, name="source_ids"
    )
    if isinstance(model, TransformerTranslator):
        encoder, decoder_step, step_spec, decoder = _transformer_graphs(
            model, batch_size, length, source_spec
        )
    else:
        encoder, decoder_step, step_spec, decoder = _rnn_graphs(
            model, batch_size, length, source_spec
        )
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    with utils.unfused_attention(model):
        encoder_content = _convert(
            model, encoder, source_spec, "float32", None
        )
        decoder_content = _convert(
            model, decoder_step, step_spec, "float32", None
        )
    paths = {
        "encoder": _write(out_dir, ENCODER_FILENAME, encoder_content),
        "decoder_step": _write(out_dir, DECODER_FILENAME, decoder_content),
    }
    translator.source_tokenizer.save(os.path.join(out_dir, SOURCE_TOKENIZER_DIRNAME))
    target.save(os.path.join(out_dir, TARGET_TOKENIZER_DIRNAME))
    utils.write_json(
        os.path.join(out_dir, CONFIG_FILENAME),
        {
            "max_length": length,
            "batch_size": batch_size,
            **decoder,
            "pad_id": target.PAD_ID,
            "start_id": target.START_ID,
            "end_id": target.END_ID,
        },
    )
    return paths


def _transformer_graphs(model, batch_size, length, source_spec):
    """The encoder and cached decoder step of a `TransformerTranslator`:
    the model's own decoding methods, those of greedy and beam search."""
    layers = model.num_layers
    width = model.encoder.model_dim

    def encoder(source_ids):
        (_, _, cross_caches), _ = model.start_decoding(source_ids, length)
        return {f"cross_cache_{i}": c for i, c in enumerate(cross_caches)}

    cache_shapes = [
        tuple(cache.shape)
        for cache in encoder(tf.zeros([batch_size, length], tf.int32)).values()
    ]

    def decoder_step(inputs):
        # The cross-attention reads its cache; the memory lends a shape.
        memory = tf.zeros([batch_size, length, width])
        context = (
            memory,
            tf.not_equal(inputs["source_ids"], PAD_ID),
            tuple(inputs[f"cross_cache_{i}"] for i in range(layers)),
        )
        logits, updated = model.decode_step(
            context,
            inputs["token"],
            inputs["index"],
            tuple(inputs[f"self_cache_{i}"] for i in range(layers)),
        )
        return {
            "logits": logits,
            **{f"self_cache_{i}": c for i, c in enumerate(updated)},
        }

    step_spec = {
        "token": tf.TensorSpec([batch_size, 1], tf.int32, name="token"),
        "index": tf.TensorSpec([], tf.int32, name="index"),
        "source_ids": source_spec,
    }
    for i, shape in enumerate(cache_shapes):
        for kind in ("cross_cache", "self_cache"):
            name = f"{kind}_{i}"
            step_spec[name] = tf.TensorSpec(shape, tf.float32, name=name)
    return encoder, decoder_step, step_spec, {
        "decoder": "transformer", "num_layers": layers,
    }


def _rnn_graphs(model, batch_size, length, source_spec):
    """The encoder and decoder step of an `RNNTranslator`, through its
    `start_decoding` and `decode_step`; the step carries the RNN state."""

    def encoder(source_ids):
        (memory, _), state = model.start_decoding(source_ids, length)
        return {"memory": memory,
                **{f"state_{i}": s for i, s in enumerate(state)}}

    shapes = {
        name: tuple(value.shape)
        for name, value in encoder(
            tf.zeros([batch_size, length], tf.int32)
        ).items()
    }
    num_states = len(shapes) - 1

    def decoder_step(inputs):
        context = (inputs["memory"],
                   tf.not_equal(inputs["source_ids"], PAD_ID))
        state = tuple(inputs[f"state_{i}"] for i in range(num_states))
        # No position index: the state carries it.
        logits, state = model.decode_step(context, inputs["token"], None,
                                          state)
        return {"logits": logits,
                **{f"state_{i}": s for i, s in enumerate(state)}}

    step_spec = {
        "token": tf.TensorSpec([batch_size, 1], tf.int32, name="token"),
        "source_ids": source_spec,
        **{name: tf.TensorSpec(shape, tf.float32, name=name)
           for name, shape in shapes.items()},
    }
    return encoder, decoder_step, step_spec, {
        "decoder": "rnn", "num_states": num_states,
    }
