import os
import tempfile

import keras
import tensorflow as tf

from keras_attnpred.export import _export_utils as utils
from keras_attnpred.export import _graphs
from keras_attnpred.models import RNNEncoderBackbone
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import model_vocabulary_sizes

CONFIG_FILENAME = "classifier.json"
TEXT_MODEL = "text"


def export_classifier_tflite(
    classifier,
    out_dir,
    quantizations=None,
    representative_texts=None,
    batch_size=1,
    text_model=True,
):
    """Exports a text classifier as TFLite models with built-in ops only.

    Each model takes a fixed `(batch_size, max_length)` int32 input
    `token_ids` (0-padded; `max_length` is the classifier's) and returns `logits`
    and `probabilities` `(batch_size, classes)`, float32. Fixed shapes keep
    every op a TFLite built-in (Keras's recurrent layers need a static batch
    to lower their loop). Written to `out_dir`:

    | file | weights | activations |
    |---|---|---|
    | `classifier_float32.tflite` | float32 | float32 |
    | `classifier_float16.tflite` | float16 | float32 |
    | `classifier_dynamic_int8.tflite` | int8 | float32 (dynamic range) |
    | `classifier_int8.tflite` | int8 | int8 (full integer, calibrated on `representative_texts`), float32 out |
    | `classifier_text.tflite` | float32 | float32; input `text` string `(batch_size,)` |
    | `classifier.json` | labels, tokenizer kind and settings, shapes, files and ops of each model | |

    The text model holds the tokenizer: TensorFlow Text's
    `FastWordpieceTokenizer` kernel (custom op
    `FastWordpieceTokenizeWithOffsets`) for a `SubwordTokenizer`, its
    `FastSentencepieceTokenizer` kernel (custom op
    `TFText>FastSentencepieceTokenize`, same ids as the
    `SentencePieceTokenizer`) for a SentencePiece run, and
    `RaggedTensorToTensor`, all in TensorFlow Text's TFLite registrar; run
    it with `ai_edge_litert.interpreter.InterpreterWithCustomOps(
    custom_op_registerers=tflite_registrar.SELECT_TFTEXT_OPS)` after `from
    tensorflow_text.core.pybinds import tflite_registrar` (or
    `TFLiteClassifier`). The WordPiece tokenizer's
    case folding (ICU NFKC_Casefold) and accent stripping have no TFLite
    kernel, so that text model takes text already normalised that way, e.g.
    `android.icu.text.Normalizer2.getNFKCCasefoldInstance()` on Android;
    `TFLiteClassifier` does it in Python. SentencePiece's normalisation and
    case folding are inside its model: only accent stripping
    (`strip_accents=True`) is left to the app.

    Attention layers run on their unfused path here: its masking keeps
    logits in a range that int8 can represent (the result is the same in
    float32). Full int8 is not available for recurrent (GRU/LSTM)
    classifiers: the TensorFlow 2.21 converter crashes calibrating their
    loops. A model that `Model.quantize` made int8 or float8 is refused
    (`ValueError`, before anything is written): the converter rejects those
    layers; an int4 one converts.

    Args:
        classifier: a `keras_attnpred.inference.Classifier`, a directory it
            loads from (a saved classifier or a classification run), or a
            `TrainingRun`.
        out_dir: str, the folder to write (created if missing).
        quantizations: the variants among `"float32"`, `"float16"`,
            `"dynamic_int8"` and `"int8"`; default all that the model allows
            (`"int8"` only with `representative_texts`).
        representative_texts: list of str, training texts for the int8
            calibration (a few hundred are plenty).
        batch_size: int, the fixed batch of every model.
        text_model: bool, also write the raw-text model.

    Returns:
        A dict from variant name (`"float32"`, ..., `"text"`) to file path.

    Example:

    >>> classifier = TrainingRun.load(sentiment_run).classifier
    >>> # A Transformer classifier also gets "int8" with representative_texts.
    >>> paths = export_classifier_tflite(
    ...     classifier, "mobile/sentiment", quantizations=["float32"])
    >>> sorted(paths)
    ['float32', 'text']
    >>> texts = ["a wonderful film", "a dull plot"]
    >>> probabilities = TFLiteClassifier(paths["text"]).predict(texts)
    >>> expected = [p["probabilities"] for p in classifier.predict(texts)]
    >>> np.allclose(probabilities, expected, atol=1e-5)
    True
    >>> ids = classifier.tokenizer.tokenize(texts).to_list()
    >>> np.allclose(
    ...     TFLiteClassifier(paths["float32"]).predict(ids), expected,
    ...     atol=1e-5)
    True
    """
    utils.require_tensorflow_backend()
    classifier = utils.as_classifier(classifier)
    batch_size = check_positive_int("batch_size", batch_size)
    check_bool("text_model", text_model)
    recurrent = isinstance(classifier.model.backbone, RNNEncoderBackbone)
    if quantizations is None:
        quantizations = [
            q
            for q in utils.QUANTIZATIONS
            if q != "int8" or (representative_texts and not recurrent)
        ]
    quantizations = utils.check_quantizations(quantizations)
    if "int8" in quantizations:
        if recurrent:
            raise ValueError(
                "Full int8 quantization is not available for recurrent "
                "(GRU/LSTM) classifiers: the TFLite converter crashes "
                "calibrating their loops. Use 'dynamic_int8'. Received: "
                f"quantizations={quantizations!r}"
            )
        if not representative_texts:
            raise ValueError(
                "Full int8 quantization needs `representative_texts` (training "
                "texts) for calibration. Received: "
                f"representative_texts={representative_texts!r}"
            )
    utils.check_convertible_quantization(
        classifier.model, classification=True
    )
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    length = classifier.max_length
    model = classifier.model
    paths, ops = {}, {}

    def probabilities(logits):
        logits = tf.cast(logits, tf.float32)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

    def token_ids_model(token_ids):
        return probabilities(model(token_ids, training=False))

    id_spec = tf.TensorSpec([batch_size, length], tf.int32, name="token_ids")
    representative = None
    if "int8" in quantizations:
        representative = _representative(
            classifier.tokenizer, representative_texts, batch_size, length,
            classifier.head_tokens,
        )
    with utils.unfused_attention(model):
        for quantization in quantizations:
            content = _convert(
                model, token_ids_model, id_spec, quantization, representative
            )
            paths[quantization] = _write(
                out_dir, f"classifier_{quantization}.tflite", content
            )
            ops[quantization] = utils.tflite_ops(content)
        if text_model:
            tokenize, resources = _text_tokenizer(classifier.tokenizer)

            def from_text(text):
                # Normalised text in; the ids are cut or padded to `length`.
                if classifier.head_tokens is None:
                    ids = tokenize(text).to_tensor(
                        shape=[batch_size, length]
                    )
                else:
                    ids = _graphs.cut_ids(
                        tokenize(text), length, classifier.head_tokens
                    )
                    ids = tf.pad(
                        ids, [[0, 0], [0, length - tf.shape(ids)[1]]]
                    )
                    ids = tf.reshape(ids, [batch_size, length])
                return {**token_ids_model(ids), "token_ids": ids}

            content = _convert(
                model,
                from_text,
                tf.TensorSpec([batch_size], tf.string, name="text"),
                "float32",
                None,
                track=resources,
                allowed_custom_ops=utils.TEXT_CUSTOM_OPS,
            )
            paths[TEXT_MODEL] = _write(
                out_dir, "classifier_text.tflite", content
            )
            ops[TEXT_MODEL] = utils.tflite_ops(content)
    utils.write_json(
        os.path.join(out_dir, CONFIG_FILENAME),
        {
            "label_names": list(classifier.label_names),
            "tokenizer": classifier.tokenizer.KIND,
            "batch_size": batch_size,
            "sequence_length": length,
            # Longer texts keep their opening and their end (training's).
            "head_tokens": classifier.head_tokens,
            # The embedding rows: `TFLiteClassifier` refuses ids past them.
            "vocabulary_size": model_vocabulary_sizes(model).get(
                "tokenizer", classifier.tokenizer.vocabulary_size
            ),
            "lowercase": classifier.tokenizer.lowercase,
            "strip_accents": classifier.tokenizer.strip_accents,
            "models": {
                name: {"file": os.path.basename(path), "ops": ops[name]}
                for name, path in paths.items()
            },
        },
    )
    return paths


def _text_tokenizer(tokenizer):
    """`(tokenize, resources)`: the text model's tokenizer, TFLite kernels
    only, and what the export must track for it."""
    if tokenizer.KIND == "sentencepiece":
        import tensorflow_text as tf_text

        # The same model, through the op that has a TFLite kernel; its
        # normalisation (case folding included) is part of the model.
        fast = tf_text.FastSentencepieceTokenizer(tokenizer.model_proto)
        return fast.tokenize, []
    return tokenizer._wordpiece.tokenize, [tokenizer._wordpiece]


def _representative(tokenizer, texts, batch_size, length, head_tokens):
    rows = tokenizer.tokenize(list(texts)).to_list()
    batches = [
        utils.pad_ids(rows[i : i + batch_size], length, head_tokens)
        for i in range(0, len(rows) - batch_size + 1, batch_size)
    ]
    if not batches:
        raise ValueError(
            "`representative_texts` must hold at least `batch_size` texts. "
            f"Received: {len(rows)} texts, batch_size={batch_size}"
        )

    def dataset():
        for batch in batches:
            yield {"token_ids": batch}

    return dataset


def _convert(
    model,
    function,
    spec,
    quantization,
    representative,
    track=(),
    allowed_custom_ops=(),
):
    # Keras 3's path to TFLite: ExportArchive -> SavedModel -> converter.
    archive = keras.export.ExportArchive()
    archive.track(model)
    for resource in track:
        archive.track(resource)
    archive.add_endpoint("serving_default", function, [spec])
    with tempfile.TemporaryDirectory() as directory:
        archive.write_out(directory, verbose=False)
        return utils.convert_saved_model(
            directory,
            quantization,
            representative_dataset=representative,
            allowed_custom_ops=allowed_custom_ops,
        )


def _write(directory, name, content):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(content)
    return path
