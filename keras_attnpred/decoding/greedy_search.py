import numpy as np
from keras import ops

from keras_attnpred.decoding._decoding_utils import check_search_arguments
from keras_attnpred.decoding._decoding_utils import compiled_loop
from keras_attnpred.decoding._decoding_utils import decoder_key
from keras_attnpred.decoding.greedy_loop import greedy_loop
from keras_attnpred.decoding.step_decoder import step_decoder
from keras_attnpred.reserved_ids import END_ID
from keras_attnpred.reserved_ids import START_ID


def greedy_search(
    model,
    source_ids,
    max_length=64,
    start_id=START_ID,
    end_id=END_ID,
    use_cache=True,
):
    """Greedy decoding of an encoder–decoder translator, one token at a time.

    At each step the most likely next token is taken. Decoding stops when
    every row has produced `end_id`, or after `max_length` tokens.

    Two ways to run the decoder:

    - **Cached** (`use_cache=True`), for a model with its own
      `start_decoding` and `decode_step` methods (`TransformerTranslator`,
      `RNNTranslator`, what `build_transformer_translator` and
      `build_rnn_translator` return). The source is encoded once.
      Transformer: each decoder block's cross-attention keys and values are
      projected once, and each step runs the decoder on the new token only,
      through the blocks' self-attention key/value caches (step `t`
      computes step `t` only). RNN: each step runs the decoder RNN's cell
      once on the new token, carrying its state, and attends to the encoder
      output with that single step's output.
    - **Uncached** (`use_cache=False`, or any other model; `use_cache=True`
      falls back to it silently for a model without those methods): each
      step re-runs the whole model on `{"source": source_ids,
      "target": [start_id] + tokens so far}`. The target is held in a fixed
      `(batch, max_length)` buffer padded with 0 after the tokens so far, so
      the model must be causal in the target (as every teacher-forced
      translator is): logits at step `t` may depend on target steps `<= t`
      only.

    Both give the same tokens. The whole loop (`keras.ops.while_loop` over
    fixed-size buffers and caches) is compiled once per model, settings and
    input shape: a `tf.function` on TensorFlow, `jax.jit` on JAX (the
    weights are passed in, so training the model further is seen by later
    calls); other backends run it eagerly. Calling again with inputs of the
    same shape does not trace again; a new batch size or source length does.

    The padding id 0 and `start_id` are never generated (their logits are
    masked out): a generated 0 would be read as padding by the model, and
    the start id only ever begins a sentence.

    Args:
        model: a `keras.Model` taking `{"source": (batch, S) int,
            "target": (batch, T) int}` and returning logits
            `(batch, T, vocabulary_size)`.
        source_ids: int array or tensor `(batch, S)`, the source ids padded
            with 0.
        max_length: int, the most tokens to generate, `end_id` included. It
            may not exceed the model's `max_decoding_length` (the size of a
            Transformer's learned target position table), when it has one.
        start_id: int, the id that starts every target sequence.
        end_id: int, the id that ends a sequence.
        use_cache: bool, decode through the key/value caches where the model
            allows it.

    Returns:
        An int32 NumPy array `(batch, steps)` of the generated ids, without
        `start_id`, with `steps <= max_length` the number of steps taken. A
        row's `end_id` is included, so rows that ended can be told from rows
        cut off at `max_length`; everything after it is 0 (padding).

    Example:

    >>> model = build_transformer_translator(
    ...     english.vocabulary_size, spanish.vocabulary_size, max_length=16,
    ...     preset="tiny")  # ... then trained on English-Spanish pairs
    >>> source_ids = english.tokenize(["the cat eats fish", "a dog"])
    >>> source_ids = source_ids.to_tensor()  # padded with 0
    >>> ids = greedy_search(model, source_ids, max_length=16)
    >>> ids.dtype, ids.shape[0], ids.shape[1] <= 16
    (dtype('int32'), 2, True)
    >>> texts = spanish.detokenize(ids)  # drops [END] and padding
    >>> len(texts), type(texts[0])
    (2, <class 'str'>)
    >>> # Re-running the whole model per step gives the same tokens.
    >>> np.array_equal(
    ...     ids, greedy_search(model, source_ids, 16, use_cache=False))
    True

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
    """
    max_length, start_id, end_id, source = check_search_arguments(
        model, source_ids, max_length, start_id, end_id, use_cache
    )
    if source.shape[0] == 0:
        return np.zeros((0, 0), dtype="int32")
    decoder = step_decoder(model, use_cache)
    key = ("greedy", decoder_key(model, decoder), max_length, start_id, end_id)
    loop = compiled_loop(
        model,
        key,
        lambda: greedy_loop(decoder, max_length, start_id, end_id),
    )
    steps, tokens = loop(ops.convert_to_tensor(source, dtype="int32"))
    steps = int(ops.convert_to_numpy(steps))
    return ops.convert_to_numpy(tokens)[:, 1 : steps + 1].astype("int32")
