import keras
import numpy as np

from keras_attnpred.explain._ids import as_ids
from keras_attnpred.explain.attention_heatmap import attention_heatmap
from keras_attnpred.explain.token_importance import METHODS
from keras_attnpred.explain.token_importance import token_importance
from keras_attnpred.explain.translation_alignment import translation_alignment
from keras_attnpred.models import upgrade_legacy_model
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.validation import check_choice
from keras_attnpred.validation import check_positive_int


class AttentionMapCallback(keras.callbacks.Callback):
    """Writes attention maps of a few fixed examples to TensorBoard.

    At the end of each epoch each example's map is drawn with
    `attention_heatmap` and written with `tf.summary.image` as
    `"{name}/example_{i}"` at step `epoch` (from 0), so TensorBoard's Images
    tab shows how the attention changes while the model learns. The
    callback needs TensorFlow (for the summaries) but works with any Keras
    backend.

    - Translators (`target_ids` given): the cross-attention averaged over
      layers and heads (`translation_alignment`), teacher-forced on the
      fixed targets; source tokens along the bottom, and down the side the
      token each step predicts (the next target input, then `[END]`).
    - Classifiers: `token_importance(model, ids, method)`, one row,
      labelled with the predicted class.

    Padding is cut off each map.

    Args:
        log_dir: str, the TensorBoard folder to write into (e.g. the
            `log_dir` of `keras.callbacks.TensorBoard`; a subfolder keeps
            the images apart).
        token_ids: int array `(examples, T)`, padded with 0: a classifier's
            inputs, or a translator's source ids.
        target_ids: optional int array `(examples, T')`, a translator's
            decoder inputs (`[START]` + reference, as in
            `translation_dataset`).
        tokenizer: optional `SubwordTokenizer` of `token_ids`, for the token
            strings (else the ids are shown).
        target_tokenizer: optional `SubwordTokenizer` of `target_ids`.
        label_names: optional list of str, a classifier's class names.
        method: a classifier's `token_importance` method.
        name: str, the summaries' name prefix.
        dpi: int, pixels per inch of the images.

    Example:

    >>> texts = ["a wonderful film", "the plot was dull"]
    >>> ids = tokenizer.tokenize(texts).to_tensor().numpy()
    >>> model = build_rnn_classifier(tokenizer.vocabulary_size, 2, units=8)
    >>> model.compile("adam", keras.losses.SparseCategoricalCrossentropy(
    ...     from_logits=True))
    >>> callback = AttentionMapCallback(
    ...     "logs/attention", ids, tokenizer=tokenizer,
    ...     label_names=["negative", "positive"])
    >>> history = model.fit(ids, np.array([1, 0]), epochs=2,
    ...                     callbacks=[callback], verbose=0)
    >>> len(callback.images())  # the PNG of each example, for the model now
    2
    >>> # tensorboard --logdir logs
    """

    def __init__(
        self,
        log_dir,
        token_ids,
        target_ids=None,
        tokenizer=None,
        target_tokenizer=None,
        label_names=None,
        method="auto",
        name="attention",
        dpi=60,
    ):
        super().__init__()
        self.log_dir = str(log_dir)
        self.token_ids = as_ids("token_ids", token_ids)
        self.target_ids = (
            None
            if target_ids is None
            else as_ids("target_ids", target_ids)
        )
        if self.target_ids is not None and len(self.target_ids) != len(
            self.token_ids
        ):
            raise ValueError(
                "`target_ids` must have one row per row of `token_ids`. "
                f"Received: token_ids.shape={self.token_ids.shape}, "
                f"target_ids.shape={self.target_ids.shape}"
            )
        self.tokenizer = tokenizer
        self.target_tokenizer = target_tokenizer
        self.label_names = label_names
        check_choice("method", method, METHODS)
        self.method = method
        self.name = name
        self.dpi = check_positive_int("dpi", dpi)
        self._writer = None

    def images(self):
        """The PNG bytes of each example's map for the current model."""
        # Once per call: a model of an earlier version is rebuilt with the
        # weights it has now.
        model = upgrade_legacy_model(self.model)
        if self.target_ids is not None:
            return self._alignment_images(model)
        return self._importance_images(model)

    def _alignment_images(self, model):
        weights = translation_alignment(
            model, self.token_ids, self.target_ids
        ).mean(axis=(1, 2))
        end = getattr(self.target_tokenizer, "END_TOKEN", "[END]")
        images = []
        for source, target, weight in zip(
            self.token_ids, self.target_ids, weights
        ):
            source = source[source != PAD_ID]
            target = target[target != PAD_ID]
            # Step t predicts the input of step t + 1; the last one [END].
            predicted = _strings(self.target_tokenizer, target[1:]) + [end]
            images.append(
                attention_heatmap(
                    weight[: len(target), : len(source)],
                    _strings(self.tokenizer, source),
                    predicted,
                    x_label="source",
                    y_label="predicted",
                    dpi=self.dpi,
                )
            )
        return images

    def _importance_images(self, model):
        logits = keras.ops.convert_to_numpy(
            model(self.token_ids, training=False)
        )
        weights = token_importance(model, self.token_ids, self.method)
        images = []
        for ids, weight, row in zip(self.token_ids, weights, logits):
            label = int(np.argmax(row))
            if self.label_names is not None:
                label = self.label_names[label]
            real = ids != PAD_ID
            images.append(
                attention_heatmap(
                    weight[real][None],
                    _strings(self.tokenizer, ids[real]),
                    [f"predicted {label}"],
                    dpi=self.dpi,
                )
            )
        return images

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            for i, png in enumerate(self.images()):
                tf.summary.image(
                    f"{self.name}/example_{i}",
                    tf.io.decode_png(png, channels=3)[None],
                    step=epoch,
                )
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _strings(tokenizer, ids):
    if tokenizer is None:
        return [str(int(i)) for i in ids]
    return [tokenizer.id_to_token(int(i)) for i in ids]
