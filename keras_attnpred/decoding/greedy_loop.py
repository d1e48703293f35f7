from keras import ops

from keras_attnpred.decoding._decoding_utils import count_trace
from keras_attnpred.decoding._step_decoders import banned_logits
from keras_attnpred.decoding._step_decoders import current_tokens
from keras_attnpred.decoding._step_decoders import initial_tokens
from keras_attnpred.reserved_ids import PAD_ID


def greedy_loop(decoder, max_length, start_id, end_id):
    """The loop of `greedy_search`, uncompiled, for graphs of one's own.

    `greedy_search` compiles it per model and input shape; an exporter traces
    it into its own graph (the SavedModel export does). It is a
    `keras.ops.while_loop` over fixed-size buffers: each step asks `decoder`
    for the next-token logits, bans the padding id and `start_id`, takes the
    most likely id (padding for rows that already ended), and stops once
    every row has produced `end_id` or after `limit` steps.

    Args:
        decoder: what to decode through, with `start_decoding(source_ids,
            max_length)` and `decode_step(context, token_ids, index,
            state)`: a `TransformerTranslator` or `RNNTranslator`, or
            `step_decoder(model, use_cache)` of any translator.
        max_length: int, the most steps, the size of the buffers.
        start_id: int, the id that starts every target sequence.
        end_id: int, the id that ends a sequence.

    Returns:
        `loop(source, limit=None)`, which takes an int32 source tensor
        `(batch, S)` and returns `(steps, tokens)`: the scalar number of
        steps taken and the int32 `(batch, max_length + 1)` buffer, column
        0 the start id, column `i + 1` the id generated at step `i`, padding
        after each row's `end_id`. `limit`, a scalar int tensor at most
        `max_length` (default `max_length`), stops the loop earlier without
        changing the buffers' shapes: the exported SavedModel takes it as an
        input.

    Example:

    >>> import tensorflow as tf
    >>> from keras_attnpred.reserved_ids import END_ID, START_ID
    >>> model = build_transformer_translator(20, 20, max_length=8,
    ...                                      preset="tiny")
    >>> loop = greedy_loop(model, max_length=8, start_id=START_ID,
    ...                    end_id=END_ID)
    >>> source_ids = tf.constant([[5, 6, 7, END_ID], [8, 9, END_ID, 0]])
    >>> steps, tokens = tf.function(loop)(source_ids, limit=tf.constant(4))
    >>> tokens.shape, int(steps) <= 4  # buffers of max_length + 1 columns
    (TensorShape([2, 9]), True)
    >>> bool(tf.reduce_all(tokens[:, 0] == START_ID))
    True
    >>> generated = tokens[:, 1 : steps + 1]
    >>> np.array_equal(generated, greedy_search(model, source_ids, 4))
    True
    """

    def loop(source, limit=None):
        count_trace()
        limit = max_length if limit is None else limit
        context, state = decoder.start_decoding(source, max_length)
        tokens = initial_tokens(ops.shape(source)[0], max_length, start_id)
        done = ops.zeros((ops.shape(source)[0],), "bool")
        t = ops.convert_to_tensor(0, "int32")

        def cond(t, tokens, done, state):
            return ops.logical_and(
                ops.less(t, limit), ops.logical_not(ops.all(done))
            )

        def body(t, tokens, done, state):
            logits, state = decoder.decode_step(
                context, current_tokens(tokens, t), t, state
            )
            banned = banned_logits(logits.shape[-1], (PAD_ID, start_id))
            step = ops.cast(ops.argmax(logits + banned, axis=-1), "int32")
            # Rows that already ended get padding.
            step = ops.where(done, ops.full_like(step, PAD_ID), step)
            done = ops.logical_or(done, ops.equal(step, end_id))
            tokens = ops.slice_update(tokens, [0, t + 1], step[:, None])
            return t + 1, tokens, done, state

        t, tokens, _, _ = ops.while_loop(cond, body, (t, tokens, done, state))
        return t, tokens

    return loop
