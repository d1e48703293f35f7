import os

import keras
import numpy as np
import tensorflow as tf

from keras_attnpred.decoding.greedy_search import _cached_loop
from keras_attnpred.decoding.greedy_search import _check_position_table
from keras_attnpred.decoding.greedy_search import _transformer_parts
from keras_attnpred.decoding.greedy_search import _uncached_loop
from keras_attnpred.export import _export_utils as utils
from keras_attnpred.export import _graphs

WARMUP_TEXTS = ("How are you?", "")


def export_translator_saved_model(
    run, base_dir, version=None, warmup_texts=None
):
    """Exports a translator as a SavedModel for TensorFlow Serving.

    Source strings go in, translated strings come out: tokenization, the
    whole decoding loop (compiled greedy search with key/value caches for
    Transformer translators, the uncached loop for the others) and
    detokenization run inside the graph, with the same results as
    `keras_attnpred.decoding.Translator.translate`. Signatures:

    | signature | inputs | outputs |
    |---|---|---|
    | `serving_default` | `text`: string `(batch,)` | `translation` string `(batch,)`, `token_ids` int32 `(batch, steps)` (the generated ids, `[END]` included, then 0) |
    | `translate` | `text`; `beam_width`: int32 scalar; `max_length`: int32 scalar | the same |

    A SavedModel signature has no optional inputs, so the defaults live in
    `serving_default`: `beam_width=1` and `max_length` the run's
    `max_length`, which is also the largest `max_length` accepted. Only
    greedy search exists yet: `beam_width` other than 1, or `max_length`
    outside `[1, run max_length]`, fails the request with an
    `INVALID_ARGUMENT` error that says so.

    The folder layout, warmup requests and atomic write are those of
    `export_classifier_saved_model`. Loading needs TensorFlow and
    TensorFlow Text only.

    Args:
        run: a translation run directory or `TrainingRun`.
        base_dir: str, the model's base folder.
        version: positive int; default the next free version.
        warmup_texts: list of str for the warmup requests.

    Returns:
        The path of the written version, `base_dir/VERSION`.

    Example:

    >>> path = export_translator_saved_model("runs/demo", "serving/en-es")
    >>> import tensorflow as tf, tensorflow_text  # in any process
    >>> translate = tf.saved_model.load(path).signatures["serving_default"]
    >>> translate(text=tf.constant(["How are you?"]))["translation"]
    """
    utils.require_tensorflow_backend()
    run = utils.load_run(run)
    utils.check_task(run, classification=False)
    texts = list(WARMUP_TEXTS if warmup_texts is None else warmup_texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError(
            "`warmup_texts` must be a non-empty list of str. "
            f"Received: warmup_texts={warmup_texts!r}"
        )
    if version is None:
        version = utils.next_version(base_dir)
    max_length = run.config.max_length
    text = np.array(texts, dtype=object)
    requests = [
        ("serving_default", {"text": text}),
        (
            "translate",
            {
                "text": text,
                "beam_width": np.int32(1),
                "max_length": np.int32(max_length),
            },
        ),
    ]
    with utils.versioned_directory(base_dir, version) as directory:
        archive = _translator_archive(run)
        archive.write_out(directory, verbose=False)
        utils.write_warmup_requests(
            directory, utils.model_name_of(base_dir), requests
        )
    return os.path.join(os.fspath(base_dir), str(version))


def search(model, source_ids, beam_width, max_length, capacity, start, end):
    """Generated ids `(batch, steps)` of `source_ids`, inside the graph.

    The one place that picks the search: beam search plugs in here, e.g.
    `tf.cond(beam_width > 1, beam, greedy)`, in place of the assertion.
    """
    tf.debugging.assert_equal(
        beam_width,
        1,
        message="Only greedy search (beam_width=1) is exported yet; beam "
        "search is not implemented. Received: beam_width",
    )
    tf.debugging.assert_greater_equal(
        max_length, 1, message="`max_length` must be at least 1. Received"
    )
    tf.debugging.assert_less_equal(
        max_length,
        capacity,
        message=f"`max_length` must not exceed the exported {capacity}. "
        "Received",
    )
    parts = _transformer_parts(model)
    if parts:
        loop = _cached_loop(parts, capacity, start, end)
    else:
        loop = _uncached_loop(model, capacity, start, end)
    steps, tokens = loop(source_ids, limit=max_length)
    return tokens[:, 1 : steps + 1]


def _translator_archive(run):
    model = run.model
    source_tokenizer, target_tokenizer = run.source_tokenizer, (
        run.target_tokenizer
    )
    capacity = run.config.max_length
    _check_position_table(model, capacity)
    start, end = target_tokenizer.START_ID, target_tokenizer.END_ID
    reserved = tf.constant(
        [target_tokenizer.PAD_ID, start, end], dtype=tf.int32
    )

    def translate(text, beam_width, max_length):
        source = _graphs.texts_to_ids(source_tokenizer, text, capacity)
        ids = search(model, source, beam_width, max_length, capacity, start,
                     end)
        # Detokenize like SubwordTokenizer.detokenize: no PAD/START/END.
        keep = tf.reduce_all(
            tf.not_equal(ids[:, :, None], reserved[None, None, :]), axis=-1
        )
        pieces = tf.ragged.boolean_mask(ids, keep)
        texts = _graphs.join_punctuation(
            target_tokenizer._wordpiece.detokenize(pieces)
        )
        # Like Translator.translate: no source tokens, no translation.
        empty = tf.reduce_all(tf.equal(source, 0), axis=-1)
        texts = tf.where(empty, tf.constant(""), texts)
        ids = tf.where(empty[:, None], tf.zeros_like(ids), ids)
        return {"translation": texts, "token_ids": ids}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(source_tokenizer._wordpiece)
    archive.track(target_tokenizer._wordpiece)
    text_spec = tf.TensorSpec([None], tf.string, name="text")
    archive.add_endpoint(
        "serving_default",
        lambda text: translate(text, 1, capacity),
        [text_spec],
    )
    archive.add_endpoint(
        "translate",
        translate,
        [
            text_spec,
            tf.TensorSpec([], tf.int32, name="beam_width"),
            tf.TensorSpec([], tf.int32, name="max_length"),
        ],
    )
    return archive
