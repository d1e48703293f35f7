import numpy as np
from keras import ops

from keras_attnpred.decoding._decoding_utils import count_trace
from keras_attnpred.decoding._step_decoders import banned_logits
from keras_attnpred.decoding._step_decoders import current_tokens
from keras_attnpred.decoding._step_decoders import initial_tokens
from keras_attnpred.decoding._step_decoders import repeat_rows
from keras_attnpred.decoding._step_decoders import take_rows
from keras_attnpred.reserved_ids import PAD_ID


def beam_loop(
    decoder, max_length, start_id, end_id, beam_width, n_best, length_penalty
):
    """The loop of `beam_search`, uncompiled, for graphs of one's own.

    `beam_search` compiles it per model, settings and input shape; an
    exporter traces it into its own graph (the SavedModel export does). It
    is the search `beam_search` documents, as a `keras.ops.while_loop` over
    fixed-size buffers: `decoder`'s context and state are repeated per
    hypothesis and the state is reordered by each hypothesis's parent at
    every step.

    Args:
        decoder: what to decode through, with `start_decoding(source_ids,
            max_length)` and `decode_step(context, token_ids, index,
            state)`: a `TransformerTranslator` or `RNNTranslator`, or
            `step_decoder(model, use_cache)` of any translator.
        max_length: int, the most steps, the size of the buffers.
        start_id: int, the id that starts every target sequence.
        end_id: int, the id that ends a sequence.
        beam_width: int, the live hypotheses kept per row; on TensorFlow
            also a scalar int32 tensor (at least `n_best`).
        n_best: int, the hypotheses returned per row.
        length_penalty: float >= 0, the GNMT `alpha`; on TensorFlow also a
            scalar float32 tensor.

    Returns:
        `loop(source, limit=None)`, which takes an int32 source tensor
        `(batch, S)` and returns `(ids, scores)`: int32 `(batch, n_best,
        max_length)` and float32 `(batch, n_best)`, best first. The ids are
        not cleaned: a hypothesis of score `-inf` (a tiny vocabulary)
        holds arbitrary ids, and the trailing padding columns are kept
        (`beam_search` cleans and cuts them). `limit`, a scalar int tensor
        at most `max_length` (default `max_length`), stops the search there
        as if `max_length` were `limit`, without changing the buffers'
        shapes: the exported SavedModel takes it, `beam_width` and
        `length_penalty` as inputs.

    Example:

    >>> import tensorflow as tf
    >>> from keras_attnpred.reserved_ids import END_ID, START_ID
    >>> model = build_transformer_translator(20, 20, max_length=8,
    ...                                      preset="tiny")
    >>> loop = beam_loop(model, max_length=8, start_id=START_ID,
    ...                  end_id=END_ID, beam_width=4, n_best=2,
    ...                  length_penalty=0.6)
    >>> source_ids = tf.constant([[5, 6, 7, END_ID], [8, 9, END_ID, 0]])
    >>> ids, scores = tf.function(loop)(source_ids)
    >>> ids.shape, scores.shape  # uncut: max_length columns
    (TensorShape([2, 2, 8]), TensorShape([2, 2]))
    >>> cut, _ = beam_search(model, source_ids, beam_width=4, n_best=2,
    ...                      length_penalty=0.6, max_length=8)
    >>> np.array_equal(ids[:, :, : cut.shape[2]], cut)
    True
    """
    width, alpha = beam_width, length_penalty

    def penalty(length):
        return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)

    def loop(source, limit=None):
        count_trace()
        if limit is None:
            limit = max_length
            # No live hypothesis can score above its log-probability over
            # this.
            max_penalty = ((5.0 + max_length) / 6.0) ** alpha
        else:
            max_penalty = penalty(limit)
        batch = ops.shape(source)[0]
        context, state = decoder.start_decoding(source, max_length)
        # Row b's hypotheses are rows b * width ... b * width + width - 1.
        context, state = repeat_rows((context, state), width)
        tokens = initial_tokens(batch * width, max_length, start_id)
        # Only the first copy of each row is live at first: the others would
        # repeat its extensions.
        alive_logp = ops.concatenate(
            [
                ops.zeros((batch, 1), "float32"),
                ops.full((batch, width - 1), -np.inf, "float32"),
            ],
            axis=1,
        )
        finished_tokens = ops.zeros((batch, width, max_length + 1), "int32")
        finished_scores = ops.full((batch, width), -np.inf, "float32")
        t = ops.convert_to_tensor(0, "int32")
        loop_vars = (
            t, tokens, alive_logp, finished_tokens, finished_scores, state
        )

        def cond(t, tokens, alive_logp, finished_tokens, finished_scores, _):
            reachable = alive_logp[:, 0] / max_penalty
            settled = ops.all(
                ops.greater(finished_scores[:, n_best - 1], reachable)
            )
            return ops.logical_and(
                ops.less(t, limit), ops.logical_not(settled)
            )

        def body(
            t, tokens, alive_logp, finished_tokens, finished_scores, state
        ):
            logits, state = decoder.decode_step(
                context, current_tokens(tokens, t), t, state
            )
            vocabulary_size = logits.shape[-1]
            banned = banned_logits(vocabulary_size, (PAD_ID, start_id))
            log_probs = ops.log_softmax(logits, axis=-1) + banned
            candidates = ops.expand_dims(alive_logp, 2) + ops.reshape(
                log_probs, (batch, width, vocabulary_size)
            )
            # At most `width` of the best 2 * width end (one per parent), so
            # at least `width` stay live.
            values, indices = ops.top_k(
                ops.reshape(candidates, (batch, width * vocabulary_size)),
                2 * width,
            )
            indices = ops.cast(indices, "int32")
            parents = ops.floor_divide(indices, vocabulary_size)
            new_ids = ops.mod(indices, vocabulary_size)
            sequences = _gather_beams(
                ops.reshape(tokens, (batch, width, max_length + 1)), parents
            )
            sequences = ops.slice_update(
                sequences, [0, 0, t + 1], ops.expand_dims(new_ids, 2)
            )
            ended = ops.equal(new_ids, end_id)

            alive_logp, alive = ops.top_k(
                ops.where(ended, -np.inf, values), width
            )
            alive = ops.cast(alive, "int32")
            # The known last axis keeps the loop's shapes static.
            tokens = ops.reshape(
                _gather_beams(sequences, alive), (-1, max_length + 1)
            )
            parent_rows = _gather_beams(parents, alive) + ops.expand_dims(
                ops.arange(batch, dtype="int32") * width, 1
            )
            state = take_rows(state, ops.reshape(parent_rows, (-1,)))

            # Only an end among the best `width` extensions finishes a
            # hypothesis, as in a beam that kept finished ones in its slots;
            # hence width 1 is greedy search.
            finishing = ops.logical_and(
                ended, ops.less(ops.arange(2 * width), width)
            )
            new_scores = ops.where(finishing, values / penalty(t + 1), -np.inf)
            finished_scores, kept = ops.top_k(
                ops.concatenate([finished_scores, new_scores], axis=1), width
            )
            finished_tokens = _gather_beams(
                ops.concatenate([finished_tokens, sequences], axis=1),
                ops.cast(kept, "int32"),
            )
            return (
                t + 1, tokens, alive_logp, finished_tokens, finished_scores,
                state,
            )

        t, tokens, alive_logp, finished_tokens, finished_scores, _ = (
            ops.while_loop(cond, body, loop_vars)
        )
        # The live hypotheses join as they are: after max_length steps they
        # are the cut-off translations; after an early stop none of them
        # reaches the n-best.
        scores, best = ops.top_k(
            ops.concatenate(
                [finished_scores, alive_logp / penalty(t)], axis=1
            ),
            n_best,
        )
        hypotheses = ops.concatenate(
            [
                finished_tokens,
                ops.reshape(tokens, (batch, width, max_length + 1)),
            ],
            axis=1,
        )
        ids = _gather_beams(hypotheses, ops.cast(best, "int32"))
        return ids[:, :, 1:], scores

    return loop


def _gather_beams(x, indices):
    """`x[b, indices[b, m]]`: `x` is `(batch, N, ...)`, `indices`
    `(batch, M)`."""
    batch, size = ops.shape(x)[0], ops.shape(x)[1]
    flat = indices + ops.expand_dims(ops.arange(batch, dtype="int32") * size, 1)
    rows = ops.take(
        ops.reshape(x, (-1,) + tuple(x.shape[2:])),
        ops.reshape(flat, (-1,)),
        axis=0,
    )
    return ops.reshape(rows, (batch, -1) + tuple(x.shape[2:]))
