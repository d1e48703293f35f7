import os
import random

from keras_attnpred.export import _export_utils as utils
from keras_attnpred.validation import check_choice

FORMATS = ("saved_model", "tflite", "both")
REPRESENTATIVE_COUNT = 256


def export_run(
    run,
    base_dir,
    format="both",
    version=None,
    batch_size=1,
    representative_texts=None,
    quantizations=None,
):
    """Exports a run directory for TF Serving and/or TFLite, by its task.

    What `attnpred export` does. The SavedModel goes to `base_dir/VERSION/`
    (`export_classifier_saved_model` or `export_translator_saved_model`),
    the TFLite models to `base_dir/tflite/VERSION/`
    (`export_classifier_tflite` or `export_translator_tflite`). TF Serving
    ignores the non-numeric `tflite` folder. Both are written to temporary
    folders and renamed into place together once both are complete (an
    error in either publishes neither); an existing version is never
    overwritten. Without `version`, both get one more than the largest
    version in either place. The folders get the usual permissions (0755
    and 0644 under umask 022), readable by a server running as another
    user.

    The TFLite variants are `quantizations`, by default the exporters':
    a classifier's float32, float16, dynamic-range int8 and full int8
    models, a translator's encoder and decoder step in float32, float16 and
    dynamic-range int8 (no full int8: `export_translator_tflite`). For a
    classifier's full int8 model, `representative_texts` default to 256
    texts drawn (seeded) from the run's training file; when that file
    cannot be read, the int8 model is left out.

    A TFLite export that cannot succeed is refused before anything is
    written: a model that `Model.quantize` made int8 or float8
    (`format="saved_model"` takes it), and `quantizations` the run's
    exporter does not offer.

    Args:
        run: a run directory or `TrainingRun`.
        base_dir: str, the model's base folder.
        format: `"saved_model"`, `"tflite"` or `"both"`.
        version: int in [1, 2**63 - 1] (TF Serving's int64), or None for
            the next free one.
        batch_size: int, the fixed batch of the TFLite models.
        representative_texts: list of str for the int8 calibration.
        quantizations: optional list of the TFLite variants to write, among
            `"float32"`, `"float16"`, `"dynamic_int8"` and (classifiers)
            `"int8"`; `None` for the exporter's default.

    Returns:
        A dict with `"saved_model"` and/or `"tflite"`: the written folders.

    Example:

    >>> export_run(sentiment_run, "exports/sentiment")
    {'saved_model': 'exports/sentiment/1',
     'tflite': 'exports/sentiment/tflite/1'}
    >>> import os
    >>> sorted(os.listdir("exports/sentiment/tflite/1"))  # no int8: an RNN
    ['classifier.json', 'classifier_dynamic_int8.tflite',
     'classifier_float16.tflite', 'classifier_float32.tflite',
     'classifier_text.tflite']
    >>> export_run(sentiment_run, "exports/sentiment", format="saved_model")
    {'saved_model': 'exports/sentiment/2'}
    """
    from keras_attnpred.training import TrainingRun

    check_choice("format", format, FORMATS)
    utils.require_tensorflow_backend()
    if isinstance(run, (str, os.PathLike)):
        run = TrainingRun.load(run)
    elif not isinstance(run, TrainingRun):
        raise ValueError(
            "`run` must be a run directory or a `TrainingRun`. "
            f"Received: run of type {type(run).__name__}"
        )
    if run.config.task == "pretraining":
        raise ValueError(
            "A pretraining run does not export: fine-tune its encoder first "
            "(`attnpred train --init-from RUN`) and export that run. "
            "Received: a run with task='pretraining'"
        )
    base_dir = os.fspath(base_dir)
    tflite_base = os.path.join(base_dir, utils.TFLITE_DIRNAME)
    version = utils.check_version(version, allow_none=True)
    if version is None:
        version = utils.next_version(base_dir, tflite_base)
    classification = run.config.is_classification
    if format in ("tflite", "both"):
        utils.check_convertible_quantization(run.model, classification)
        if quantizations is not None:
            quantizations = _checked_quantizations(
                quantizations, classification
            )
    exported = run.classifier if classification else run.translator
    written = {}
    # "both": the two versions are renamed into place together at the end,
    # or neither is (a full disk in the TFLite part left a SavedModel).
    with utils.publish_together():
        _export(run, exported, base_dir, tflite_base, format, version,
                batch_size, representative_texts, quantizations, written)
    return written


def _checked_quantizations(quantizations, classification):
    if classification:
        return utils.check_quantizations(quantizations)
    from keras_attnpred.export.export_translator_tflite import (
        _check_quantizations,
    )

    return _check_quantizations(quantizations)


def _export(run, exported, base_dir, tflite_base, format, version,
            batch_size, representative_texts, quantizations, written):
    from keras_attnpred.export.export_classifier_saved_model import (
        export_classifier_saved_model,
    )
    from keras_attnpred.export.export_classifier_tflite import (
        export_classifier_tflite,
    )
    from keras_attnpred.export.export_translator_saved_model import (
        export_translator_saved_model,
    )
    from keras_attnpred.export.export_translator_tflite import (
        export_translator_tflite,
    )

    classification = run.config.is_classification
    if format in ("saved_model", "both"):
        export = (
            export_classifier_saved_model
            if classification
            else export_translator_saved_model
        )
        written["saved_model"] = export(exported, base_dir, version=version)
    if format in ("tflite", "both"):
        with utils.versioned_directory(tflite_base, version) as directory:
            if classification:
                if representative_texts is None and (
                    quantizations is None or "int8" in quantizations
                ):
                    representative_texts = _training_sample(run)
                export_classifier_tflite(
                    exported,
                    directory,
                    quantizations=quantizations,
                    representative_texts=representative_texts,
                    batch_size=batch_size,
                )
            else:
                export_translator_tflite(
                    exported, directory, batch_size=batch_size,
                    quantizations=quantizations,
                )
        written["tflite"] = os.path.join(tflite_base, str(version))


def _training_sample(run):
    from keras_attnpred.data import read_labeled_texts

    config = run.config
    try:
        texts = read_labeled_texts(
            config.train_path,
            config.text_column,
            config.label_column,
            delimiter=config.delimiter,
        ).texts
    except (ValueError, OSError, ImportError):
        return None
    texts = list(texts)
    random.Random(config.seed).shuffle(texts)
    return texts[:REPRESENTATIVE_COUNT]
