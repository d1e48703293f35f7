"""The uncached step decoder and the search loops' buffer helpers (private).

The search loops (`greedy_loop`, `beam_loop`) decode through two methods,
those of `TransformerTranslator` and `RNNTranslator`:

- `start_decoding(source, max_length)` encodes the source once and returns
  `(context, state)`: `context` holds what every step reads but never
  changes, `state` what each step updates. Both are tuples of tensors whose
  first axis is the batch, so a beam search can repeat them per hypothesis
  and reorder `state` by each hypothesis's parent.
- `decode_step(context, token_ids, index, state)` returns the float32
  next-token logits `(batch, vocabulary)` after `token_ids` `(batch, 1)`,
  the token at position `index`, and the new state.

`UncachedSteps` gives any other model (or `use_cache=False`) the same two
methods by re-running the whole model at every step.
"""

import keras
import numpy as np
from keras import ops

from keras_attnpred.reserved_ids import PAD_ID


class UncachedSteps:
    """`start_decoding` / `decode_step` of any translator, uncached.

    Each step re-runs `model` on `{"source": source, "target": buffer}` and
    reads the logits at `index`. The state is the `(batch, max_length)`
    target buffer: the start id, the tokens so far, then padding, which a
    causal model ignores. Being state, the buffer follows each hypothesis's
    parent in a beam search.

    Args:
        model: a `keras.Model` taking `{"source": (batch, S) int,
            "target": (batch, T) int}` and returning logits
            `(batch, T, vocabulary_size)`, causal in the target.
    """

    def __init__(self, model):
        self.model = model

    def start_decoding(self, source_ids, max_length):
        batch = ops.shape(source_ids)[0]
        return (source_ids,), (
            ops.full((batch, max_length), PAD_ID, dtype="int32"),
        )

    def decode_step(self, context, token_ids, index, state):
        (source,) = context
        (target,) = state
        target = ops.slice_update(
            target, [0, index], ops.cast(token_ids, "int32")
        )
        logits = self.model(
            {"source": source, "target": target}, training=False
        )
        return ops.cast(ops.take(logits, index, axis=1), "float32"), (target,)


def decodes_step_by_step(model):
    """Whether `model` has its own `start_decoding` and `decode_step`."""
    return callable(getattr(model, "start_decoding", None)) and callable(
        getattr(model, "decode_step", None)
    )


def repeat_rows(structure, copies):
    """Each tensor's rows repeated `copies` times in place (beam layout)."""
    return keras.tree.map_structure(
        lambda x: ops.repeat(x, copies, axis=0), structure
    )


def take_rows(structure, indices):
    """Each tensor's rows `indices` (a beam's parents)."""
    return keras.tree.map_structure(
        lambda x: ops.take(x, indices, axis=0), structure
    )


def banned_logits(vocabulary_size, banned_ids):
    """A float32 row adding -inf to `banned_ids` and 0 elsewhere."""
    row = np.zeros((vocabulary_size,), "float32")
    row[list(banned_ids)] = -np.inf
    return row


def initial_tokens(batch, max_length, start_id):
    """The `(batch, max_length + 1)` token buffer: `start_id`, then padding."""
    # Column 0 holds start_id, column t + 1 the token generated at step t.
    return ops.concatenate(
        [
            ops.full((batch, 1), start_id, dtype="int32"),
            ops.full((batch, max_length), PAD_ID, dtype="int32"),
        ],
        axis=1,
    )


def current_tokens(tokens, index):
    """`(batch, 1)`: column `index` of the token buffer."""
    return ops.expand_dims(ops.take(tokens, index, axis=1), 1)
