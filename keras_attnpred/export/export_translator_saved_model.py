import os

import keras
import numpy as np
import tensorflow as tf

from keras_attnpred.decoding import beam_loop
from keras_attnpred.decoding import check_decoding_length
from keras_attnpred.decoding import greedy_loop
from keras_attnpred.decoding import step_decoder
from keras_attnpred.export import _export_utils as utils
from keras_attnpred.export import _graphs

WARMUP_TEXTS = ("How are you?", "")
# The widest beam the `translate` signature accepts: the search holds
# batch * beam_width hypotheses, so the bound keeps a request's memory in
# check. Any width from 1 to it runs the same loop, traced once.
MAX_BEAM_WIDTH = 8


def export_translator_saved_model(
    translator, base_dir, version=None, warmup_texts=None
):
    """Exports a translator as a SavedModel for TensorFlow Serving.

    Source strings go in, translated strings come out: tokenization, the
    whole search loop and detokenization run inside the graph, with the
    same results as `keras_attnpred.inference.Translator.translate`. The
    search is that of `greedy_search` and `beam_search` (`greedy_loop` and
    `beam_loop`), on the same step decoders (`step_decoder`): the
    Transformer through its key/value caches, the RNN translators carrying
    their state, any other model re-run per step.
    Signatures:

    | signature | inputs | outputs |
    |---|---|---|
    | `serving_default` | `text`: string `(batch,)` | `translation` string `(batch,)`, `token_ids` int32 `(batch, steps)` (the generated ids, `[END]` included, then 0) |
    | `translate` | `text`; `beam_width`: int32 scalar; `max_length`: int32 scalar; `length_penalty`: float32 scalar | the same |

    A SavedModel signature has no optional inputs, so the defaults live in
    `serving_default`: greedy search (`beam_width=1`, `length_penalty=0`)
    up to the translator's `max_length`, the largest `max_length` accepted.
    `translate` runs greedy search for `beam_width=1` with
    `length_penalty=0` and beam search otherwise (the GNMT length penalty
    `alpha` of `beam_search`; the best hypothesis is kept), like
    `Translator.translate`. Beam search is one loop whose width is the
    input, traced once: every width from 1 to `MAX_BEAM_WIDTH` (8) runs
    it. A `beam_width` outside `[1, 8]`, a `max_length` outside
    `[1, the translator's max_length]` or a `length_penalty` that is negative or not
    finite fails the request with an `INVALID_ARGUMENT` error that names
    the input, as does an input of another shape than the signature's.
    `token_ids` has as many columns as the longest translation of the
    batch. Bad texts behave as in the classifier export
    (`export_classifier_saved_model`): cut to `max_length`, invalid UTF-8
    read as U+FFFD, no effect on the other rows, and a text without tokens
    gives `""`.

    The folder layout, warmup requests (one per signature; the `translate`
    one runs beam search, so both loops are warm) and atomic write are
    those of `export_classifier_saved_model`. Loading needs TensorFlow and
    TensorFlow Text only.

    Args:
        translator: a `keras_attnpred.inference.Translator`, a directory it
            loads from (a saved translator or a translation run), or a
            `TrainingRun`.
        base_dir: str, the model's base folder.
        version: int in [1, 2**63 - 1]; default the next free version.
        warmup_texts: list of str for the warmup requests.

    Returns:
        The path of the written version, `base_dir/VERSION`.

    Example:

    >>> path = export_translator_saved_model(translator, "serving/en-es")
    >>> import tensorflow as tf, tensorflow_text  # in any process
    >>> signatures = tf.saved_model.load(path).signatures
    >>> texts = ["the cat eats fish", ""]
    >>> outputs = signatures["serving_default"](text=tf.constant(texts))
    >>> translations = [t.decode() for t in outputs["translation"].numpy()]
    >>> translations == translator.translate(texts)  # greedy search
    True
    >>> outputs = signatures["translate"](
    ...     text=tf.constant(texts), beam_width=tf.constant(4),
    ...     max_length=tf.constant(8), length_penalty=tf.constant(0.6))
    >>> outputs["translation"].shape, outputs["token_ids"].shape[1] <= 8
    (TensorShape([2]), True)
    """
    translator, version, texts = utils.saved_model_arguments(
        translator, base_dir, version, warmup_texts, WARMUP_TEXTS,
        classification=False,
    )
    max_length = translator.max_length
    text = np.array(texts, dtype=object)
    requests = [
        ("serving_default", {"text": text}),
        (
            "translate",
            {
                "text": text,
                "beam_width": np.int32(4),
                "max_length": np.int32(max_length),
                "length_penalty": np.float32(0.6),
            },
        ),
    ]
    with utils.versioned_directory(base_dir, version) as directory:
        archive = _translator_archive(translator)
        archive.write_out(directory, verbose=False)
        utils.write_warmup_requests(
            directory, utils.model_name_of(base_dir), requests
        )
    return os.path.join(os.fspath(base_dir), str(version))


def _search(
    decoder, source_ids, beam_width, length_penalty, max_length, capacity,
    start, end,
):
    """Generated ids `(batch, capacity)` of `source_ids`, inside the graph.

    The loops of `greedy_search` and `beam_search`, run on `decoder` (from
    `step_decoder`) for `capacity` steps and stopped after `max_length`
    steps: greedy search for `beam_width=1` with `length_penalty=0`, as
    `Translator.translate` picks it, else beam search with `beam_width`
    hypotheses per row (one loop whose width is the input tensor), the best
    one kept. The ids end with `end` (unless cut) and are 0 after it.
    """
    checks = [
        tf.debugging.assert_greater_equal(
            beam_width, 1, message="`beam_width` must be at least 1. Received"
        ),
        tf.debugging.assert_less_equal(
            beam_width,
            MAX_BEAM_WIDTH,
            message=f"`beam_width` must be at most {MAX_BEAM_WIDTH}. "
            "Received",
        ),
        tf.debugging.assert_greater_equal(
            max_length, 1, message="`max_length` must be at least 1. Received"
        ),
        tf.debugging.assert_less_equal(
            max_length,
            capacity,
            message=f"`max_length` must not exceed the exported {capacity}. "
            "Received",
        ),
        # NaN fails both comparisons.
        tf.debugging.assert_greater_equal(
            length_penalty,
            0.0,
            message="`length_penalty` must be a finite number >= 0. Received",
        ),
        tf.debugging.assert_less(
            length_penalty,
            float("inf"),
            message="`length_penalty` must be a finite number >= 0. Received",
        ),
    ]
    with tf.control_dependencies(checks):
        source_ids = tf.identity(source_ids)

    def greedy():
        _, tokens = greedy_loop(decoder, capacity, start, end)(
            source_ids, limit=max_length
        )
        return tokens[:, 1:]

    def beam():
        ids, scores = beam_loop(
            decoder, capacity, start, end, beam_width, 1, length_penalty
        )(source_ids, limit=max_length)
        # Unformed hypotheses (score -inf, a tiny vocabulary) hold
        # arbitrary ids.
        return tf.where(tf.math.is_inf(scores), 0, ids[:, 0])

    if not tf.is_tensor(beam_width) and not tf.is_tensor(length_penalty):
        return greedy() if beam_width == 1 and length_penalty == 0 else beam()
    is_greedy = tf.logical_and(
        tf.equal(beam_width, 1), tf.equal(length_penalty, 0.0)
    )
    return tf.cond(is_greedy, greedy, beam)


def _translator_archive(translator):
    model = translator.model
    source_tokenizer = translator.source_tokenizer
    target_tokenizer = translator.target_tokenizer
    capacity = translator.max_length
    check_decoding_length(model, capacity)
    start, end = target_tokenizer.START_ID, target_tokenizer.END_ID
    reserved = tf.constant(
        [target_tokenizer.PAD_ID, start, end], dtype=tf.int32
    )
    decoder = step_decoder(model, use_cache=True)

    def translate(text, beam_width, max_length, length_penalty):
        source = _graphs.texts_to_ids(source_tokenizer, text, capacity)
        ids = _search(
            decoder, source, beam_width, length_penalty, max_length,
            capacity, start, end,
        )
        # Like Translator.translate: no source tokens, no translation.
        empty = tf.reduce_all(tf.equal(source, 0), axis=-1)
        ids = tf.where(empty[:, None], tf.zeros_like(ids), ids)
        # Cut after the longest translation, as beam_search does.
        used = tf.reduce_any(tf.not_equal(ids, 0), axis=0)
        steps = tf.reduce_max(tf.where(used, tf.range(1, capacity + 1), 0))
        ids = ids[:, :steps]
        # Detokenize like the tokenizer's detokenize: no PAD/START/END.
        keep = tf.reduce_all(
            tf.not_equal(ids[:, :, None], reserved[None, None, :]), axis=-1
        )
        pieces = tf.ragged.boolean_mask(ids, keep)
        texts = target_tokenizer.tf_tokenizer.detokenize(pieces)
        if target_tokenizer.SPLITS_PUNCTUATION:
            texts = _graphs.join_punctuation(texts)
        texts = tf.where(empty, tf.constant(""), texts)
        return {"translation": texts, "token_ids": ids}

    archive = keras.export.ExportArchive()
    archive.track(model)
    # TensorFlow Text tokenizers are tf.Modules: tracking saves their models.
    archive.track(source_tokenizer.tf_tokenizer)
    archive.track(target_tokenizer.tf_tokenizer)
    text_spec = tf.TensorSpec([None], tf.string, name="text")
    archive.add_endpoint(
        "serving_default",
        # Python defaults: only the greedy loop is traced here.
        lambda text: translate(
            _graphs.checked_shapes(text), 1, capacity, 0.0
        ),
        [text_spec],
    )
    archive.add_endpoint(
        "translate",
        lambda *inputs: translate(*_graphs.checked_shapes(*inputs)),
        [
            text_spec,
            tf.TensorSpec([], tf.int32, name="beam_width"),
            tf.TensorSpec([], tf.int32, name="max_length"),
            tf.TensorSpec([], tf.float32, name="length_penalty"),
        ],
    )
    return archive
