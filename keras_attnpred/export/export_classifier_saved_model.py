import os

import keras
import numpy as np
import tensorflow as tf

from keras_attnpred.export import _export_utils as utils
from keras_attnpred.export import _graphs

WARMUP_TEXTS = ("A short example text to warm the model up.", "")


def export_classifier_saved_model(
    classifier, base_dir, version=None, warmup_texts=None
):
    """Exports a text classifier as a SavedModel for TensorFlow Serving.

    The tokenizer runs inside the graph (TensorFlow Text ops, with the
    normalisation of training), so clients send raw UTF-8 text. Signatures:

    | signature | inputs | outputs |
    |---|---|---|
    | `serving_default` | `text`: string `(batch,)` | `label` int32 `(batch,)`, `label_name` string `(batch,)`, `probabilities` float32 `(batch, classes)` |
    | `serving_token_ids` | `token_ids`: int32 `(batch, T)`, 0-padded | the same |
    | `serving_with_attention` (attention-pooling classifiers) | `text` | the same, plus `attention` float32 `(batch, T)` (the pooling weights, 0 on padding), `token_ids` int32 and `tokens` string `(batch, T)` (the word pieces they weigh) |

    Texts are cut to the classifier's `max_length` tokens, as in training; so are
    `token_ids` rows. A text with no tokens gets the prediction of a fully
    padded input. Invalid UTF-8 bytes read as U+FFFD (the word holding them
    becomes `[UNK]`): the answer of `Classifier.predict` for
    `text.decode("utf-8", "replace")`. A bad text never changes the other
    rows' answers; an empty batch gives 0 rows. A `text` that is not 1-D,
    `token_ids` that are not 2-D or outside the vocabulary fail the request
    with `INVALID_ARGUMENT`, naming the input (a wrong dtype is refused by
    TensorFlow before the graph runs).

    The layout is TF Serving's: `base_dir/VERSION/` with `saved_model.pb`,
    `variables/` and `assets.extra/tf_serving_warmup_requests` (a TFRecord
    of `PredictionLog`s, one request per signature, which the server runs
    before it takes traffic). The version is written into a temporary folder
    inside `base_dir` and renamed into place when complete, so a server
    watching `base_dir` never loads a half-written version; an existing
    version is never overwritten.

    Loading needs TensorFlow and TensorFlow Text only
    (`import tensorflow_text` registers the tokenizer's ops), not this
    package.

    Args:
        classifier: a `keras_attnpred.inference.Classifier`, a directory it
            loads from (a saved classifier or a classification run), or a
            `TrainingRun`.
        base_dir: str, the model's base folder; its name is the model name
            on the server.
        version: int in [1, 2**63 - 1]; default one more than the largest
            version in `base_dir` (1 for a new one).
        warmup_texts: list of str for the warmup requests; a default pair
            otherwise.

    Returns:
        The path of the written version, `base_dir/VERSION`.

    Example:

    >>> classifier = TrainingRun.load(sentiment_run).classifier
    >>> path = export_classifier_saved_model(classifier, "serving/sentiment")
    >>> path  # the first version
    'serving/sentiment/1'
    >>> # tensorflow_model_server --model_base_path=$PWD/serving/sentiment \\
    >>> #     --model_name=sentiment --rest_api_port=8501
    >>> import tensorflow as tf, tensorflow_text  # in any process
    >>> signatures = tf.saved_model.load(path).signatures
    >>> sorted(signatures)  # attention pooling: the weights are served too
    ['serving_default', 'serving_token_ids', 'serving_with_attention']
    >>> texts = ["a wonderful film", "a dull plot"]
    >>> outputs = signatures["serving_default"](text=tf.constant(texts))
    >>> [name.decode() for name in outputs["label_name"].numpy()]
    ['positive', 'negative']
    >>> expected = [p["probabilities"] for p in classifier.predict(texts)]
    >>> np.allclose(outputs["probabilities"], expected, atol=1e-6)
    True
    """
    classifier, version, texts = utils.saved_model_arguments(
        classifier, base_dir, version, warmup_texts, WARMUP_TEXTS,
        classification=True,
    )
    with utils.versioned_directory(base_dir, version) as directory:
        archive, signatures = _classifier_archive(classifier)
        ids = _graphs.texts_to_ids(
            classifier.tokenizer, tf.constant(texts), classifier.max_length,
            classifier.head_tokens,
        ).numpy()
        requests = []
        for name in signatures:
            inputs = {"token_ids": ids} if name == "serving_token_ids" else {
                "text": np.array(texts, dtype=object)
            }
            requests.append((name, inputs))
        archive.write_out(directory, verbose=False)
        utils.write_warmup_requests(
            directory, utils.model_name_of(base_dir), requests
        )
    return os.path.join(os.fspath(base_dir), str(version))


def _classifier_archive(classifier):
    model = classifier.model
    tokenizer = classifier.tokenizer
    max_length = classifier.max_length
    head_tokens = classifier.head_tokens
    label_names = tf.constant(list(classifier.label_names))
    vocabulary = tf.constant(tokenizer.get_vocabulary())

    def predictions(logits):
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        label = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {
            "label": label,
            "label_name": tf.gather(label_names, label),
            "probabilities": probabilities,
        }

    def from_text(text):
        text = _graphs.checked_shapes(text)
        ids = _graphs.texts_to_ids(tokenizer, text, max_length, head_tokens)
        return predictions(model(ids, training=False))

    def from_token_ids(token_ids):
        token_ids = _graphs.checked_token_ids(
            _graphs.checked_shapes(token_ids), tokenizer.vocabulary_size
        )
        if head_tokens is not None:
            # Cut as the texts are: the rows' lengths stop at their padding.
            token_ids = _graphs.cut_ids(
                tf.RaggedTensor.from_tensor(token_ids, padding=0),
                max_length, head_tokens,
            )
        token_ids = _graphs.at_least_one_step(token_ids[:, :max_length])
        return predictions(model(token_ids, training=False))

    archive = keras.export.ExportArchive()
    archive.track(model)
    # TensorFlow Text tokenizers are tf.Modules: tracking saves their models.
    archive.track(tokenizer.tf_tokenizer)
    text_spec = tf.TensorSpec([None], tf.string, name="text")
    archive.add_endpoint("serving_default", from_text, [text_spec])
    archive.add_endpoint(
        "serving_token_ids",
        from_token_ids,
        [tf.TensorSpec([None, None], tf.int32, name="token_ids")],
    )
    signatures = ["serving_default", "serving_token_ids"]
    if model.pooling == "attention":

        def with_attention(text):
            text = _graphs.checked_shapes(text)
            ids = _graphs.texts_to_ids(tokenizer, text, max_length, head_tokens)
            pooled, weights = model.pool(
                *model.encode(ids), return_attention_scores=True
            )
            logits = model.pooled_logits(pooled)
            return {
                **predictions(logits),
                "attention": weights,
                "token_ids": ids,
                "tokens": tf.gather(vocabulary, ids),
            }

        archive.add_endpoint(
            "serving_with_attention", with_attention, [text_spec]
        )
        signatures.append("serving_with_attention")
    return archive, signatures
