import math

from keras import ops

from keras_attnpred.layers._luong_bahdanau_base import SCORE_DTYPE
from keras_attnpred.layers._luong_bahdanau_base import BaseScoredAttention
from keras_attnpred.layers.attention_utils import check_same_dim
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_choice

SCORES = ("dot", "general", "concat", "scaled_dot")


@register
class DotProductAttention(BaseScoredAttention):
    """Multiplicative (Luong) attention with a choice of score function.

    Each query `q_t` scores each key `k_j` with one of:

    - `"dot"`: `q_t · k_j` (needs `Dq == Dk`);
    - `"scaled_dot"`: `q_t · k_j / sqrt(Dk)` (needs `Dq == Dk`), the scaling
      of Vaswani et al.;
    - `"general"`: `q_t · W k_j`, with a learned `W` of shape `(Dq, Dk)`;
    - `"concat"`: `v · tanh(W [q_t; k_j])`, computed as
      `v · tanh(W_q q_t + W_k k_j)`, which is the same thing with
      `W = [W_q, W_k]`; `W_q`, `W_k` project to `units` features.

    The softmax of the scores over the visible keys weighs the sum of the
    values, which is the output (the paper's context vector; the values are
    not projected).

    Scores, masking and softmax run in float32 under every dtype policy
    (query and key are cast to float32 before the products, so a
    `mixed_float16` dot product beyond 65504 does not overflow); the output
    has the layer's compute dtype and the returned weights are float32.

    Args:
        score: str, one of `"dot"`, `"general"`, `"concat"`, `"scaled_dot"`.
        units: int, size of the `"concat"` projections. Defaults to the key
            feature size. Not used by the other scores.
        use_bias: bool, whether the `"general"` and `"concat"` query
            projections have a bias (Luong's scores have none).
        dropout: float in [0, 1), dropout on the attention weights during
            training.
        kernel_initializer: initializer for the `"general"` and `"concat"`
            kernels.
        bias_initializer: initializer for their biases.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        query: float tensor `(batch, T, Dq)`, or `(batch, Dq)` for a single
            decoder step (as in an RNN decoder).
        value: float tensor `(batch, S, Dv)`.
        key: optional float tensor `(batch, S, Dk)`; defaults to `value`.
            Scores come from query and key, the output from the value.
        query_mask: optional boolean `(batch, T)` (or `(batch,)` for a 2-D
            query); `False` rows attend to nothing and give zeros. Taken from
            the query's Keras mask when not given.
        value_mask: optional boolean `(batch, S)`; `False` keys are hidden.
            Taken from the value's Keras mask when not given.
        key_mask: optional boolean `(batch, S)`, combined with `value_mask`
            (a key must be visible in both). Taken from the key's Keras mask
            when not given.
        attention_mask: optional boolean mask broadcastable to
            `(batch, T, S)` (or `(batch, S)` for a 2-D query); `True` marks
            allowed query/key pairs. Combined with all the other masks.
        use_causal_mask: bool, also hide key `j` from query step `i` when
            `j > i`. Needs a 3-D query.
        return_attention_scores: bool, also return the attention weights.
        training: bool, whether dropout is active.

    Returns:
        The attended values `(batch, T, Dv)` (or `(batch, Dv)` for a 2-D
        query), and with `return_attention_scores=True` also the float32
        weights `(batch, T, S)` (or `(batch, S)`) before dropout. Hidden keys
        get exactly zero weight and a fully hidden row gives zeros, never
        NaN. The query's mask is propagated.

    Example:

    >>> source = keras.Input(shape=(None,), dtype="int32")
    >>> target = keras.Input(shape=(None,), dtype="int32")
    >>> encoded = keras.layers.Embedding(1000, 32, mask_zero=True)(source)
    >>> encoded = keras.layers.LSTM(32, return_sequences=True)(encoded)
    >>> decoded = keras.layers.Embedding(1000, 16, mask_zero=True)(target)
    >>> decoded = keras.layers.LSTM(24, return_sequences=True)(decoded)
    >>> context, weights = DotProductAttention(score="general")(
    ...     decoded, encoded, return_attention_scores=True)
    >>> merged = keras.layers.Concatenate()([decoded, context])
    >>> attentional = keras.layers.Dense(32, activation="tanh")(merged)
    >>> probs = keras.layers.Dense(1000, activation="softmax")(attentional)
    >>> model = keras.Model([source, target], [probs, weights])
    >>> probs, weights = model([np.array([[5, 6, 0]]), np.array([[7, 8]])])
    >>> tuple(probs.shape), tuple(weights.shape)
    ((1, 2, 1000), (1, 2, 3))

    References:
        - [Luong et al., 2015. Effective Approaches to Attention-based Neural
          Machine Translation](https://arxiv.org/abs/1508.04025)
        - [Vaswani et al., 2017. Attention Is All You Need](
          https://arxiv.org/abs/1706.03762) (the `"scaled_dot"` score)
    """

    def __init__(
        self,
        score="dot",
        units=None,
        use_bias=False,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            units=units,
            use_bias=use_bias,
            dropout=dropout,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        check_choice("score", score, SCORES)
        self.score = score

    def _build_scores(self, query_shape, key_shape):
        if self.score in ("dot", "scaled_dot"):
            check_same_dim("query", query_shape[-1], "key", key_shape[-1])
        elif self.score == "general":
            # `q · W k` as `(W^T q) · k`: one (Dq, Dk) kernel on the query.
            self._general_projection = self._dense(
                key_shape[-1], self.use_bias, "general_projection", query_shape
            )
        else:
            self._build_additive_scores(query_shape, key_shape)

    def _scores(self, query, key):
        if self.score == "concat":
            return self._additive_scores(query, key)
        key = ops.cast(key, SCORE_DTYPE)
        if self.score == "general":
            query = self._general_projection(query)
        query = ops.cast(query, SCORE_DTYPE)
        scores = ops.einsum("btd,bsd->bts", query, key)
        if self.score == "scaled_dot":
            scores = scores / math.sqrt(key.shape[-1])
        return scores

    def get_config(self):
        config = super().get_config()
        config["score"] = self.score
        return config
