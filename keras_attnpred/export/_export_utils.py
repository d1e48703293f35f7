"""Helpers shared by the exporters (private): backend check, run loading,
the TF Serving version layout, warmup records and TFLite conversion."""

import contextlib
import contextvars
import json
import os
import shutil
import tempfile
import warnings

import keras
import numpy as np

from keras_attnpred._atomic_files import disk_full_error
from keras_attnpred._atomic_files import is_disk_full
from keras_attnpred.quiet import native_stderr_silenced
from keras_attnpred.quiet import tensorflow_asked_to_be_quiet
from keras_attnpred.validation import check_positive_int

# Op names that the TensorFlow Text TFLite registrar
# (`tensorflow_text.core.pybinds.tflite_registrar.SELECT_TFTEXT_OPS`) adds.
TEXT_CUSTOM_OPS = (
    "FastWordpieceTokenizeWithOffsets",
    "TFText>FastSentencepieceTokenize",
    "RaggedTensorToTensor",
)
WARMUP_FILENAME = "tf_serving_warmup_requests"
TFLITE_DIRNAME = "tflite"
EXPORT_CONFIG_FILENAME = "export.json"
# TF Serving reads version folder names as int64.
MAX_VERSION = 2**63 - 1


def require_tensorflow_backend():
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(
            "Export writes TensorFlow graphs and needs the TensorFlow backend "
            "(set KERAS_BACKEND=tensorflow). Received: backend="
            f"{backend!r}"
        )


def as_classifier(classifier):
    """`classifier` as a `keras_attnpred.inference.Classifier`.

    Takes a `Classifier`, a directory it loads from (a saved classifier or a
    classification run directory), or an object that hands one out as its
    `classifier` attribute (a `TrainingRun`).
    """
    from keras_attnpred.inference import Classifier

    return _inference_object(classifier, "classifier", Classifier)


def as_translator(translator):
    """`translator` as a `keras_attnpred.inference.Translator`: one
    already, a directory it loads from (a saved translator or a translation
    run directory), or an object with a `translator` attribute (a
    `TrainingRun`)."""
    from keras_attnpred.inference import Translator

    return _inference_object(translator, "translator", Translator)


def _inference_object(value, name, cls):
    if isinstance(value, cls):
        return value
    if isinstance(value, (str, os.PathLike)):
        # A translator's folder has translator.json, a classifier's
        # labels.json: name the mix-up rather than a missing file.
        other, marker = {
            "classifier": ("translator", "translator.json"),
            "translator": ("classifier", "labels.json"),
        }[name]
        if os.path.isfile(os.path.join(value, marker)):
            raise ValueError(
                f"This exporter needs a {name}; the directory holds a "
                f"{other}. Received: {name}={os.fspath(value)!r}"
            )
        return cls.load(value)
    handed_out = getattr(type(value), name, None)
    if isinstance(handed_out, property):
        # A run of the other task refuses with its own message.
        return getattr(value, name)
    raise ValueError(
        f"`{name}` must be a `{cls.__name__}`, a directory it loads from or "
        f"a `TrainingRun`. Received: {name} of type {type(value).__name__}"
    )


def saved_model_arguments(
    exported, base_dir, version, warmup_texts, default_texts, classification
):
    """The checked arguments of a SavedModel exporter.

    Returns:
        `(exported, version, texts)`: the `Classifier` or `Translator`, the
        version to write (the next free one for None) and the warmup texts
        (`default_texts` for None).
    """
    require_tensorflow_backend()
    exported = (as_classifier if classification else as_translator)(exported)
    texts = list(default_texts if warmup_texts is None else warmup_texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError(
            "`warmup_texts` must be a non-empty list of str. "
            f"Received: warmup_texts={warmup_texts!r}"
        )
    version = check_version(version, allow_none=True)
    if version is None:
        version = next_version(base_dir)
    return exported, version, texts


def existing_versions(base_dir):
    """The numeric version folders of `base_dir` (TF Serving's layout)."""
    if not os.path.isdir(base_dir):
        return []
    return sorted(
        int(name)
        for name in os.listdir(base_dir)
        if name.isascii() and name.isdigit()
        and os.path.isdir(os.path.join(base_dir, name))
    )


def next_version(*base_dirs):
    """One more than the largest version found in any of `base_dirs`."""
    versions = [v for base in base_dirs for v in existing_versions(base)]
    version = max(versions, default=0) + 1
    if version > MAX_VERSION:
        raise ValueError(
            f"No version is left after {max(versions)} in "
            f"{', '.join(map(str, base_dirs))}: TF Serving reads versions as "
            f"int64, at most {MAX_VERSION}. Export into a new base folder."
        )
    return version


def check_version(version, allow_none=False):
    """`version` as an int in [1, 2**63 - 1] (TF Serving's int64)."""
    version = check_positive_int("version", version, allow_none=allow_none)
    if version is not None and version > MAX_VERSION:
        raise ValueError(
            f"`version` must be at most {MAX_VERSION} (2**63 - 1): TF Serving "
            f"reads versions as int64. Received: version={version}"
        )
    return version


# The versions of `publish_together`, waiting to be renamed into place.
_pending = contextvars.ContextVar("pending_versions", default=None)


@contextlib.contextmanager
def publish_together():
    """Versions written inside (`versioned_directory`) are published all
    together when the block ends, or none of them: `--format both` never
    leaves a SavedModel without its TFLite models."""
    pending = []
    token = _pending.set(pending)
    try:
        yield
    except BaseException:
        for temporary, _, _ in pending:
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    finally:
        _pending.reset(token)
    published = []
    try:
        for temporary, final, version in pending:
            _publish(temporary, final, version)
            published.append((temporary, final))
    except BaseException:
        for temporary, final in published:
            # Unpublished again: a version of one format alone is not kept.
            with contextlib.suppress(OSError):
                os.rename(final, temporary)
        for temporary, _, _ in pending:
            shutil.rmtree(temporary, ignore_errors=True)
        raise


@contextlib.contextmanager
def versioned_directory(base_dir, version):
    """Yields a temporary folder that becomes `base_dir/version` on success.

    The folder is made inside `base_dir` (same file system) under a name
    TF Serving ignores (not a number), and renamed into place in one step
    once everything is written: a server watching `base_dir` never sees a
    half-written version. On an error it is removed. Inside
    `publish_together`, the rename waits for the end of that block. The
    published folder gets the permissions of any new folder (0755 under
    the usual umask 022), not `mkdtemp`'s 0700, so that a server running
    as another user can read it.

    Raises:
        ValueError: `base_dir/version` exists already (never overwritten),
            or `version` is outside [1, 2**63 - 1].
        OSError: the disk filled up (naming the version; nothing of it is
            published).
    """
    version = check_version(version)
    base_dir = os.fspath(base_dir)
    final = os.path.join(base_dir, str(version))
    _refuse_existing(final, version)
    os.makedirs(base_dir, exist_ok=True)
    temporary = tempfile.mkdtemp(prefix=f".{version}.incomplete-", dir=base_dir)
    try:
        try:
            yield temporary
        except Exception as error:
            if is_disk_full(error):
                raise disk_full_error(
                    final, " (nothing of this version was published)"
                ) from error
            raise
        os.chmod(temporary, 0o777 & ~_umask())
        pending = _pending.get()
        if pending is not None:
            pending.append((temporary, final, version))
        else:
            _publish(temporary, final, version)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _publish(temporary, final, version):
    _refuse_existing(final, version)
    # A rename onto an existing empty folder would succeed on POSIX, so
    # the check above runs again right before it.
    os.rename(temporary, final)


def _umask():
    # Read by setting it: os has no getter (it is set back at once).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _refuse_existing(path, version):
    if os.path.exists(path):
        raise ValueError(
            f"Version {version} exists already at {path}; versions are never "
            "overwritten. Choose another `version` (or leave it out for the "
            f"next free number). Received: version={version}"
        )


def write_warmup_requests(export_dir, model_name, requests):
    """Writes `assets.extra/tf_serving_warmup_requests` for TF Serving.

    Args:
        export_dir: the SavedModel folder.
        model_name: the model's name on the server (the base folder's name).
        requests: list of `(signature_name, {input name: array})`.
    """
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2
    from tensorflow_serving.apis import predict_pb2
    from tensorflow_serving.apis import prediction_log_pb2

    directory = os.path.join(export_dir, "assets.extra")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, WARMUP_FILENAME)
    with tf.io.TFRecordWriter(path) as writer:
        for signature_name, inputs in requests:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(
                    name=model_name, signature_name=signature_name
                )
            )
            for name, value in inputs.items():
                request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def model_name_of(base_dir):
    return os.path.basename(os.path.normpath(os.fspath(base_dir))) or "model"


def write_json(path, values):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(values, f, indent=2, ensure_ascii=False)


@contextlib.contextmanager
def unfused_attention(model):
    """Runs `MultiHeadAttention` layers of `model` on their unfused path.

    The unfused path masks with `masked_softmax`, whose masked logits stay
    close to the real ones; Keras's fused kernel masks with -2.4e38, a range
    that int8 quantization cannot represent. Both give the same numbers in
    float32.
    """
    from keras_attnpred.layers import MultiHeadAttention

    layers = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, MultiHeadAttention)
    ]
    previous = [layer.use_fused_attention for layer in layers]
    for layer in layers:
        layer.use_fused_attention = False
    try:
        yield
    finally:
        for layer, value in zip(layers, previous):
            layer.use_fused_attention = value


QUANTIZATIONS = ("float32", "float16", "dynamic_int8", "int8")


def check_quantizations(quantizations):
    """`quantizations` as a list of names among `QUANTIZATIONS` (the
    `quantizations` argument of the TFLite exporters); a single str or an
    unknown name is a `ValueError` naming the argument."""
    names = None
    if not isinstance(quantizations, (str, bytes)):
        try:
            names = list(quantizations)
        except TypeError:
            pass
    if names is None or not all(
        isinstance(name, str) and name in QUANTIZATIONS for name in names
    ):
        raise ValueError(
            "`quantizations` must hold names among "
            f"{list(QUANTIZATIONS)}. Received: "
            f"quantizations={names if names is not None else quantizations!r}"
        )
    return names


# `Model.quantize` modes whose layers the TensorFlow 2.21 converter rejects:
# int8 fails at the quantized matmuls, float8 at its casts. An int4 model
# converts (its kernels are unpacked to float constants) and matches Keras.
UNCONVERTIBLE_KERAS_QUANTIZATIONS = ("int8", "float8")


def check_convertible_quantization(model, classification):
    """Refuses, for a TFLite export, a model `Model.quantize` made int8 or
    float8: the converter fails on it deep inside the conversion, with a
    message about a `tfl.*` op; this names the cause before any work."""
    refused = [
        f"{layer.path} ({layer.quantization_mode})"
        for layer in model._flatten_layers(include_self=False)
        if layer.quantization_mode in UNCONVERTIBLE_KERAS_QUANTIZATIONS
    ]
    if not refused:
        return
    if classification:
        advice = (
            "Export the float model instead: the TFLite export quantizes it "
            "itself ('dynamic_int8', or 'int8' with representative texts)."
        )
    else:
        advice = "Export the float model instead."
    shown = ", ".join(refused[:3])
    more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
    raise ValueError(
        "The TFLite converter rejects layers that `Model.quantize` made "
        f"{' or '.join(UNCONVERTIBLE_KERAS_QUANTIZATIONS)}. {advice} The "
        "SavedModel export takes the quantized model (format='saved_model' "
        f"in `export_run` and `attnpred export`). Received: a model with "
        f"{len(refused)} such layers: {shown}{more}"
    )


def convert_saved_model(
    saved_model_dir,
    quantization="float32",
    representative_dataset=None,
    allowed_custom_ops=(),
):
    """Converts a SavedModel's `serving_default` to TFLite bytes.

    Only TFLite built-in ops are allowed (no Flex/Select TF ops); custom ops
    only where listed in `allowed_custom_ops` (the TensorFlow Text kernels).

    Args:
        quantization: `"float32"`; `"float16"` (float16 weights);
            `"dynamic_int8"` (int8 weights, float activations); `"int8"`
            (full integer: int8 weights and activations, calibrated on
            `representative_dataset`; float32 logits out).
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if allowed_custom_ops:
        converter.allow_custom_ops = True
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "dynamic_int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantization == "int8":
        if representative_dataset is None:
            raise ValueError(
                "Full int8 quantization needs representative data. "
                "Received: representative_dataset=None"
            )
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8
        ]
    with warnings.catch_warnings(), native_stderr_silenced(
        quantization == "int8" and tensorflow_asked_to_be_quiet()
    ):
        # TensorFlow's own int8 calibrator runs the deprecated
        # `tf.lite.Interpreter` (the package uses `ai_edge_litert`) and prints
        # its settings ("fully_quantize: 0, ...") from C++.
        warnings.filterwarnings(
            "ignore", message=r"\s*Warning: tf\.lite\.Interpreter is deprecated"
        )
        content = converter.convert()
    check_tflite_ops(content, allowed_custom_ops)
    return content


def tflite_ops(content):
    """The op names of a `.tflite` model: built-in names and custom codes."""
    from ai_edge_litert import schema_py_generated as schema

    builtin_names = {
        value: name
        for name, value in vars(schema.BuiltinOperator).items()
        if not name.startswith("_")
    }
    model = schema.Model.GetRootAs(content, 0)
    names = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            names.append(code.CustomCode().decode("utf-8"))
        else:
            names.append(builtin_names.get(builtin, str(builtin)))
    return sorted(set(names))


def custom_ops(content):
    """The ops of a `.tflite` model that are not built-ins (Flex, custom)."""
    from ai_edge_litert import schema_py_generated as schema

    builtin = set(vars(schema.BuiltinOperator))
    return [name for name in tflite_ops(content) if name not in builtin]


def check_tflite_ops(content, allowed_custom_ops=()):
    """Raises unless every op is a TFLite built-in or an allowed custom op."""
    unexpected = [
        name for name in custom_ops(content) if name not in allowed_custom_ops
    ]
    if unexpected:
        raise ValueError(
            "The TFLite model needs ops that are not TFLite built-ins "
            f"(Flex or custom): {unexpected}"
        )


def tflite_interpreter(path, num_threads=None):
    """A LiteRT interpreter of the `.tflite` file `path`.

    A model with custom ops (the raw-text classifier) gets TensorFlow Text's
    registrar. A missing, empty or corrupt file is a `ValueError` naming
    it (the interpreter's own message names neither).
    """
    from ai_edge_litert import interpreter

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"No TFLite model file at `path`. Received: {path=}")
    with open(path, "rb") as f:
        content = f.read()
    try:
        # Verifies the FlatBuffer before the op list is read from it.
        model = interpreter.Interpreter(
            model_content=content or None, num_threads=num_threads
        )
    except ValueError as error:
        reason = str(error) if content else "the file is empty"
        raise ValueError(
            f"`path` is not a valid TFLite model ({reason}). Received: "
            f"{path=}"
        ) from None
    if custom_ops(content):
        from tensorflow_text.core.pybinds import tflite_registrar

        model = interpreter.InterpreterWithCustomOps(
            model_content=content,
            custom_op_registerers=tflite_registrar.SELECT_TFTEXT_OPS,
            num_threads=num_threads,
        )
    return model


def pad_ids(rows, width, head_tokens=None):
    """A `(len(rows), width)` int32 array, rows cut or padded with 0; with
    `head_tokens`, a longer row keeps its first `head_tokens` ids and its
    last `width - head_tokens` (as `RaggedIds.padded` in training)."""
    batch = np.zeros((len(rows), width), "int32")
    for i, row in enumerate(rows):
        row = list(row)
        if head_tokens is not None and len(row) > width:
            row = row[:head_tokens] + row[len(row) - (width - head_tokens):]
        row = row[:width]
        batch[i, : len(row)] = row
    return batch
