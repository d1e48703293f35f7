import keras
from keras import ops

from keras_attnpred.serialization import register
from keras_attnpred.validation import check_positive_number

# Label of an example without one: only the teacher teaches it.
UNLABELED = -1
# Keeps the logarithms of attention weights that are exactly 0 finite.
_EPSILON = 1e-7


@register
class Distiller(keras.Model):
    """Knowledge distillation of a text classifier into a smaller one.

    The student learns from the teacher's temperature-softened
    probabilities and from the labels (Hinton et al. 2015). The loss of an
    example is

    `alpha * T**2 * KL(softmax(t / T) || softmax(s / T))
    + (1 - alpha) * CE(label, s)
    + attention_weight * A`

    with `t` and `s` the teacher's and the student's logits, `T` the
    `temperature`. An example labelled `UNLABELED` (-1) has no
    cross-entropy term: unlabelled texts learn from the teacher alone. `A`
    (MiniLM, Wang et al. 2020) is the KL divergence of the student's
    last-layer self-attention from the teacher's, per query of the real
    tokens, averaged over them and the heads; when the head counts differ,
    of the attention averaged over the heads. It needs two Transformer
    classifiers (`TextClassifier.logits_and_attention`). The loss is the
    mean over the batch.

    The teacher is frozen and runs without dropout. `model(ids)` returns
    a dict: the student's `"logits"`, the teacher's `"teacher_logits"` and
    the per-example `"attention_divergence"` (0 without attention
    transfer). Besides `loss` the model tracks `distillation_loss`,
    `label_loss` and `accuracy` (the student's, over labelled examples).
    Compile it with an optimizer only. What training keeps is `student`.

    Args:
        teacher: a `TextClassifier`.
        student: a `TextClassifier` with the same classes.
        temperature: float > 0, `T`.
        alpha: float in [0, 1], the weight of the teacher's term.
        attention_weight: float >= 0, the weight of the attention term.
        **kwargs: `keras.Model` arguments such as `name`.

    Example:

    >>> def classifier(width, heads):
    ...     backbone = TransformerEncoderBackbone(
    ...         vocabulary_size=50, max_length=8, num_layers=1,
    ...         model_dim=width, num_heads=heads, intermediate_dim=width)
    ...     return TextClassifier(backbone, num_classes=2)
    >>> distiller = Distiller(classifier(16, 4), classifier(8, 2),
    ...                       temperature=2.0, attention_weight=1.0)
    >>> distiller.compile(optimizer="adam")
    >>> ids = np.array([[5, 6, 7, 0], [8, 9, 0, 0]])
    >>> history = distiller.fit(ids, np.array([1, -1]), verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'distillation_loss', 'label_loss', 'loss']

    References:
        - [Hinton et al., 2015. Distilling the Knowledge in a Neural
          Network](https://arxiv.org/abs/1503.02531)
        - [Wang et al., 2020. MiniLM: Deep Self-Attention Distillation for
          Task-Agnostic Compression of Pre-Trained
          Transformers](https://arxiv.org/abs/2002.10957)
    """

    def __init__(
        self,
        teacher,
        student,
        temperature=2.0,
        alpha=0.5,
        attention_weight=0.0,
        dtype=None,
        **kwargs,
    ):
        for name, model in (("teacher", teacher), ("student", student)):
            if not callable(getattr(model, "logits_and_attention", None)):
                raise ValueError(
                    f"`{name}` must be a `TextClassifier`. Received: {name} "
                    f"of type {type(model).__name__}"
                )
        if teacher.num_classes != student.num_classes:
            raise ValueError(
                "`student` must have the teacher's classes "
                f"({teacher.num_classes}). Received: student with "
                f"num_classes={student.num_classes}"
            )
        check_positive_number("temperature", temperature)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or (
            not 0.0 <= alpha <= 1.0
        ):
            raise ValueError(
                f"`alpha` must be a float in [0, 1]. Received: alpha={alpha!r}"
            )
        if isinstance(attention_weight, bool) or not isinstance(
            attention_weight, (int, float)
        ) or not attention_weight >= 0.0:
            raise ValueError(
                "`attention_weight` must be a float >= 0. Received: "
                f"attention_weight={attention_weight!r}"
            )
        if attention_weight and None in (
            teacher.self_attention_heads, student.self_attention_heads
        ):
            raise ValueError(
                "`attention_weight` > 0 transfers self-attention: the "
                "teacher and the student must both be Transformer "
                f"classifiers. Received: attention_weight={attention_weight} "
                f"with a {type(teacher.backbone).__name__} teacher and a "
                f"{type(student.backbone).__name__} student"
            )
        super().__init__(dtype=dtype, **kwargs)
        self.teacher = teacher
        self.student = student
        self.teacher.trainable = False
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.attention_weight = float(attention_weight)
        self.distillation_tracker = keras.metrics.Mean(
            name="distillation_loss"
        )
        self.label_tracker = keras.metrics.Mean(name="label_loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        # Teacher and student are built already.
        self.built = True

    @property
    def same_heads(self):
        """Whether the attention is compared head by head (equal head
        counts) rather than averaged over the heads."""
        return self.teacher.self_attention_heads == (
            self.student.self_attention_heads
        )

    def call(self, token_ids, training=None):
        token_ids = ops.convert_to_tensor(token_ids, "int32")
        if not self.attention_weight:
            teacher_logits = self.teacher(token_ids, training=False)
            logits = self.student(token_ids, training=training)
            divergence = ops.zeros((ops.shape(token_ids)[0],), "float32")
        else:
            teacher_logits, teacher_attention = (
                self.teacher.logits_and_attention(token_ids, training=False)
            )
            logits, attention = self.student.logits_and_attention(
                token_ids, training=training
            )
            divergence = self.attention_divergence(
                ops.stop_gradient(teacher_attention),
                attention,
                ops.not_equal(token_ids, 0),
            )
        return {
            "logits": ops.cast(logits, "float32"),
            "teacher_logits": ops.stop_gradient(
                ops.cast(teacher_logits, "float32")
            ),
            "attention_divergence": divergence,
        }

    def attention_divergence(self, teacher_attention, attention, padding_mask):
        """Per example, the mean KL divergence of `attention` from
        `teacher_attention` (both `(batch, heads, T, T)`) over the heads
        and the real query tokens; over the head-averaged attention when
        the head counts differ."""
        if not self.same_heads:
            teacher_attention = ops.mean(teacher_attention, axis=1,
                                         keepdims=True)
            attention = ops.mean(attention, axis=1, keepdims=True)
        # (batch, heads, T): over the keys; padded keys have weight 0.
        per_query = ops.sum(
            teacher_attention
            * (
                ops.log(teacher_attention + _EPSILON)
                - ops.log(attention + _EPSILON)
            ),
            axis=-1,
        )
        real = ops.cast(padding_mask, "float32")[:, None, :]
        heads = ops.cast(ops.shape(per_query)[1], "float32")
        return ops.sum(per_query * real, axis=(1, 2)) / ops.maximum(
            heads * ops.sum(real, axis=(1, 2)), 1.0
        )

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        labels = ops.reshape(ops.convert_to_tensor(y, "int32"), (-1,))
        logits = y_pred["logits"]
        temperature = self.temperature
        teacher = ops.softmax(y_pred["teacher_logits"] / temperature, axis=-1)
        log_teacher = ops.log_softmax(
            y_pred["teacher_logits"] / temperature, axis=-1
        )
        log_student = ops.log_softmax(logits / temperature, axis=-1)
        soft = ops.sum(teacher * (log_teacher - log_student), axis=-1) * (
            temperature**2
        )
        labeled = ops.not_equal(labels, UNLABELED)
        weights = ops.cast(labeled, "float32")
        hard = -ops.sum(
            ops.one_hot(ops.maximum(labels, 0), ops.shape(logits)[-1])
            * ops.log_softmax(logits, axis=-1),
            axis=-1,
        ) * weights
        per_example = (
            self.alpha * soft
            + (1.0 - self.alpha) * hard
            + self.attention_weight * y_pred["attention_divergence"]
        )
        if sample_weight is not None:
            per_example = per_example * ops.reshape(
                ops.cast(sample_weight, "float32"), (-1,)
            )
        count = ops.maximum(ops.sum(weights), 1.0)
        correct = ops.cast(
            ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), labels),
            "float32",
        )
        self.distillation_tracker.update_state(ops.mean(soft))
        self.label_tracker.update_state(ops.sum(hard) / count)
        self.accuracy_tracker.update_state(
            ops.sum(correct * weights) / count, sample_weight=ops.sum(weights)
        )
        return ops.mean(per_example)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "teacher": keras.saving.serialize_keras_object(self.teacher),
            "student": keras.saving.serialize_keras_object(self.student),
            "temperature": self.temperature,
            "alpha": self.alpha,
            "attention_weight": self.attention_weight,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("teacher", "student"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
