"""Pictures in TensorBoard while training (`attention_maps`): the attention
of a few validation texts and, for classifiers, the confusion matrix."""

import os

import keras
import numpy as np

from keras_attnpred.explain import AttentionMapCallback
from keras_attnpred.inference import classification_metrics
from keras_attnpred.inference import confusion_matrix_png
from keras_attnpred.reserved_ids import START_ID
from keras_attnpred.training import _run_files as files

ATTENTION_DIR = "attention"
CONFUSION_MATRIX_DIR = "confusion_matrix"


def image_callbacks(config, dataset, tokenizers, validation_batches, out_dir):
    """The callbacks that draw `config.attention_maps` validation texts'
    attention and, for classifiers, the validation confusion matrix, into
    `out_dir/logs/`.

    Args:
        config: the run's `TrainingConfig`.
        dataset: its `PreparedDataset`.
        tokenizers: the tokenizers learned for the run by name, or None to
            read those of the prepared folder.
        validation_batches: the `PreparedBatches` of the validation part.
        out_dir: the run directory.
    """
    part = dataset.parts["validation"]
    logs = os.path.join(out_dir, files.LOGS)
    tokenizers = tokenizers or _folder_tokenizers(dataset)
    # No longer than the longest of the texts shown (or max_length).
    if config.is_translation:
        rows = np.arange(min(config.attention_maps, len(part["source"])))
        source = part["source"].padded(
            rows, _width(part["source"], rows, config.max_length)
        )
        width = _width(part["target"], rows, config.max_length - 1) + 1
        decoder = np.zeros((len(rows), width), "int32")
        decoder[:, 0] = START_ID
        decoder[:, 1:] = part["target"].padded(rows, width - 1)
        return [
            AttentionMapCallback(
                os.path.join(logs, ATTENTION_DIR),
                source,
                target_ids=decoder,
                tokenizer=tokenizers[files.SOURCE_TOKENIZER],
                target_tokenizer=tokenizers[files.TARGET_TOKENIZER],
            )
        ]
    rows = np.arange(min(config.attention_maps, len(part["ids"])))
    ids = part["ids"].padded(
        rows, _width(part["ids"], rows, config.max_length)
    )
    return [
        AttentionMapCallback(
            os.path.join(logs, ATTENTION_DIR),
            ids,
            tokenizer=tokenizers[files.TOKENIZER],
            label_names=list(dataset.label_names),
        ),
        ConfusionMatrixCallback(
            os.path.join(logs, CONFUSION_MATRIX_DIR),
            validation_batches,
            list(dataset.label_names),
        ),
    ]


def _width(ids, rows, most):
    return int(min(max(1, ids.lengths[rows].max(initial=1)), most))


def _folder_tokenizers(dataset):
    from keras_attnpred.text import load_tokenizer

    return {
        name: load_tokenizer(os.path.join(dataset.directory, name))
        for name in dataset.tokenizer_names
    }


class ConfusionMatrixCallback(keras.callbacks.Callback):
    """Writes the confusion matrix of a classifier on `batches` (labelled
    `(ids, labels)` batches, e.g. the validation part's `PreparedBatches`)
    to TensorBoard at the end of each epoch, as the image
    `"confusion_matrix"` at step `epoch`, with its macro-F1 as the scalar
    `"macro_f1"`. Needs TensorFlow (for the summaries) and matplotlib."""

    def __init__(self, log_dir, batches, label_names, dpi=60):
        super().__init__()
        self.log_dir = log_dir
        self.batches = batches
        self.label_names = label_names
        self.dpi = dpi
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        labels, predictions = [], []
        for index in range(len(self.batches)):
            ids, batch_labels = self.batches[index]
            logits = keras.ops.convert_to_numpy(
                self.model.predict_on_batch(ids)
            )
            predictions.append(np.argmax(logits, axis=-1))
            labels.append(batch_labels)
        report = classification_metrics(
            np.concatenate(labels), np.concatenate(predictions),
            self.label_names,
        )
        png = confusion_matrix_png(
            report["confusion_matrix"]["matrix"], self.label_names,
            title=f"epoch {epoch + 1}", dpi=self.dpi,
        )
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            tf.summary.image(
                "confusion_matrix",
                tf.io.decode_png(png, channels=3)[None],
                step=epoch,
            )
            tf.summary.scalar("macro_f1", report["macro_f1"], step=epoch)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
