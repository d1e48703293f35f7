from keras_attnpred.layers._luong_bahdanau_base import BaseScoredAttention
from keras_attnpred.serialization import register


@register
class AdditiveAttention(BaseScoredAttention):
    """Additive (Bahdanau) attention, with the paper's learned projections.

    Each query `q_t` scores each key `k_j` with
    `e_tj = v · tanh(W_q q_t + W_k k_j + b)`; the softmax of the scores over
    the visible keys weighs the sum of the values, which is the output (the
    paper's context vector; the values are not projected).

    Unlike `keras.layers.AdditiveAttention`, which adds query and key as they
    are (`v · tanh(q + k)`, so both need the same size and nothing is
    learned but the scale), this is the paper's form: query and key have
    their own projections `W_q`, `W_k` to `units` features, so they may have
    different sizes, e.g. a decoder state attending to encoder outputs.

    Scores, masking and softmax run in float32 under every dtype policy
    (the scoring weights are float32 sublayers); the output has the layer's
    compute dtype and the returned weights are float32.

    Args:
        units: int, size of the hidden scoring projections `W_q`, `W_k`.
            Defaults to the key feature size.
        use_bias: bool, whether the scoring projection has a bias `b`.
        dropout: float in [0, 1), dropout on the attention weights during
            training.
        kernel_initializer: initializer for `W_q`, `W_k` and `v`.
        bias_initializer: initializer for `b`.
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
    >>> encoded = keras.layers.GRU(32, return_sequences=True)(encoded)
    >>> decoded = keras.layers.Embedding(1000, 16, mask_zero=True)(target)
    >>> decoded = keras.layers.GRU(24, return_sequences=True)(decoded)
    >>> context, weights = AdditiveAttention(units=32)(
    ...     decoded, encoded, return_attention_scores=True)
    >>> merged = keras.layers.Concatenate()([decoded, context])
    >>> probs = keras.layers.Dense(1000, activation="softmax")(merged)
    >>> model = keras.Model([source, target], [probs, weights])
    >>> probs, weights = model([np.array([[5, 6, 0]]), np.array([[7, 8]])])
    >>> tuple(weights.shape)  # (batch, target steps, source steps)
    (1, 2, 3)
    >>> float(weights[0, 0, 2])  # the padded source step gets no weight
    0.0

    References:
        - [Bahdanau et al., 2015. Neural Machine Translation by Jointly
          Learning to Align and Translate](https://arxiv.org/abs/1409.0473)
    """

    def __init__(
        self,
        units=None,
        use_bias=True,
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

    def _build_scores(self, query_shape, key_shape):
        self._build_additive_scores(query_shape, key_shape)

    def _scores(self, query, key):
        return self._additive_scores(query, key)
