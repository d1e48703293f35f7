import os
import tempfile

import keras
import tensorflow as tf

from keras_attnpred.decoding import check_decoding_length
from keras_attnpred.export import _export_utils as utils
from keras_attnpred.export.export_classifier_tflite import _write
from keras_attnpred.models import RNNTranslator
from keras_attnpred.models import TransformerTranslator
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.validation import check_positive_int

CONFIG_FILENAME = "translator.json"
# The float32 files of exports from before the quantized variants; a
# `translator.json` without "models" names these.
ENCODER_FILENAME = "encoder.tflite"
DECODER_FILENAME = "decoder_step.tflite"
SOURCE_TOKENIZER_DIRNAME = "source_tokenizer"
TARGET_TOKENIZER_DIRNAME = "target_tokenizer"
# Full int8 (integer activations) is not offered for translators: its
# calibration would need representative caches or states of every step.
TRANSLATOR_QUANTIZATIONS = ("float32", "float16", "dynamic_int8")


def model_filenames(quantization):
    """`{"encoder": ..., "decoder_step": ...}`: the file names of one
    variant, e.g. `encoder_dynamic_int8.tflite`."""
    return {
        "encoder": f"encoder_{quantization}.tflite",
        "decoder_step": f"decoder_step_{quantization}.tflite",
    }


def export_translator_tflite(
    translator, out_dir, batch_size=1, quantizations=None
):
    """Exports a translator as TFLite models: an encoder and a decoder step.

    The search loop stays outside, in the app (or `TFLiteTranslator`): an
    encoder that runs once per sentence and a decoder that runs once per
    generated token, both with TFLite built-in ops only and fixed shapes
    (`S` = the translator's `max_length`, `B` = `batch_size`). Each
    quantization is a pair of files, `encoder_{q}.tflite` and
    `decoder_step_{q}.tflite`, with the same inputs and outputs (float32
    and int32 in every variant):

    | `q` | weights | activations |
    |---|---|---|
    | `float32` | float32 | float32 |
    | `float16` | float16 | float32 |
    | `dynamic_int8` | int8 | float32 (dynamic range: the usual choice for seq2seq on a phone) |

    For a Transformer (`L` decoder layers), the decoder reads key/value
    caches:

    - `encoder_{q}.tflite`: `source_ids` int32 `(B, S)`, 0-padded ->
      `cross_cache_0` ... `cross_cache_{L-1}` float32
      `(B, 2, S, heads, head_size)` (each decoder layer's projected keys and
      values of the encoded source).
    - `decoder_step_{q}.tflite`: `token` int32 `(B, 1)` (the token at
      position `index`: `[START]` first), `index` int32 scalar,
      `source_ids`, the `cross_cache_i` and `self_cache_i`
      `(B, 2, S, heads, head_size)` (zeros at the start) -> `logits`
      float32 `(B, vocabulary)` and the updated `self_cache_i`, to feed
      back at the next step.

    An RNN translator's encoder gives `memory` (the encoded source) and
    `state_0` ... (the decoder's initial state); its step takes `token`,
    `source_ids`, `memory` and the state, and gives `logits` and the new
    state. Greedy decoding with the float32 pair gives the tokens of
    `keras_attnpred.decoding.greedy_search` (`TFLiteTranslator` does it);
    the quantized pairs give nearly the same tokens (on the toy
    Transformer and LSTM translators of the tests: float16 all of them,
    dynamic int8 over 99% of them).
    Also written: the two tokenizers (their `save` layout: the vocabulary
    files a mobile WordPiece tokenizer needs, or the SentencePiece model)
    and `translator.json` (`max_length`, `batch_size`, the reserved ids,
    the `"decoder"`, `"transformer"` or `"rnn"`, its cache or state count,
    the `"quantizations"` written and, under `"models"`, each one's files
    and ops).

    Refused with a `ValueError` before the translator is loaded or
    anything written: an unknown quantization name, and `"int8"` (full
    integer activations; its calibration would need representative caches
    of every decoding step: use `"dynamic_int8"`). Every variant is
    converted before the first file is written. A model that
    `Model.quantize` made int8 or float8 is refused too: the converter
    rejects those layers.

    Args:
        translator: a `keras_attnpred.inference.Translator`, a directory it
            loads from, or a `TrainingRun`, of a `TransformerTranslator` or
            an `RNNTranslator`.
        out_dir: str, the folder to write (created if missing).
        batch_size: int, the fixed batch of both models.
        quantizations: list of variant names among `"float32"`,
            `"float16"` and `"dynamic_int8"`; default all three.

    Returns:
        A dict from variant name to a dict with the paths of `"encoder"`
        and `"decoder_step"`.

    Example:

    >>> paths = export_translator_tflite(
    ...     translator, "mobile/en-es", quantizations=["float32"])
    >>> sorted(paths), sorted(paths["float32"])
    (['float32'], ['decoder_step', 'encoder'])
    >>> import os
    >>> sorted(os.listdir("mobile/en-es"))  # ... and the tokenizers
    ['decoder_step_float32.tflite', 'encoder_float32.tflite',
     'source_tokenizer', 'target_tokenizer', 'translator.json']
    >>> texts = ["the cat eats fish", ""]
    >>> TFLiteTranslator("mobile/en-es").translate(texts) == (
    ...     translator.translate(texts))
    True
    >>> export_translator_tflite(translator, "mobile/int8",
    ...                          quantizations=["int8"])
    Traceback (most recent call last):
    ...
    ValueError: Full int8 quantization (integer activations) is not
    available for translators: ... Use 'dynamic_int8' (int8 weights).
    Received: quantizations=['int8']
    """
    quantizations = _check_quantizations(quantizations)
    utils.require_tensorflow_backend()
    batch_size = check_positive_int("batch_size", batch_size)
    translator = utils.as_translator(translator)
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
    # Every variant is converted before anything is written.
    with utils.unfused_attention(model):
        contents = {
            "encoder": _convert_each(
                model, encoder, source_spec, quantizations
            ),
            "decoder_step": _convert_each(
                model, decoder_step, step_spec, quantizations
            ),
        }
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    paths, models = {}, {}
    for quantization in quantizations:
        names = model_filenames(quantization)
        paths[quantization] = {
            part: _write(out_dir, names[part], contents[part][quantization])
            for part in names
        }
        models[quantization] = {
            part: {
                "file": names[part],
                "ops": utils.tflite_ops(contents[part][quantization]),
            }
            for part in names
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
            "quantizations": quantizations,
            "models": models,
        },
    )
    return paths


def _check_quantizations(quantizations):
    """The variant names to write, checked: the translators' default is
    every variant but full int8, which is refused."""
    if quantizations is None:
        return list(TRANSLATOR_QUANTIZATIONS)
    quantizations = utils.check_quantizations(quantizations)
    if "int8" in quantizations:
        raise ValueError(
            "Full int8 quantization (integer activations) is not available "
            "for translators: its calibration would need representative "
            "attention caches or RNN states of every decoding step. Use "
            "'dynamic_int8' (int8 weights). Received: "
            f"quantizations={quantizations!r}"
        )
    if not quantizations:
        raise ValueError(
            "`quantizations` must name at least one variant among "
            f"{list(TRANSLATOR_QUANTIZATIONS)}. Received: "
            f"quantizations={quantizations!r}"
        )
    # A name given twice is written once.
    return list(dict.fromkeys(quantizations))


def _convert_each(model, function, spec, quantizations):
    """`{quantization: TFLite bytes}`: `function` written out once as a
    SavedModel, then converted once per variant."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", function, [spec])
    with tempfile.TemporaryDirectory() as directory:
        archive.write_out(directory, verbose=False)
        return {
            quantization: utils.convert_saved_model(directory, quantization)
            for quantization in quantizations
        }


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
