"""Where the benchmarks write their JSON files.

`benchmarks/results/<benchmark>_<backend>_<device>[_<variant>].json`, the
names `benchmarks/RESULTS.md` cites: `<benchmark>` is the script's name,
`<device>` the GPU's model (`h200`, `h100`) or `cpu`.
"""

import os
import re

import keras

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def device_name():
    """The first GPU's model in lower case (`h200`), else `cpu`."""
    backend = keras.backend.backend()
    name = None
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform != "cpu":
            name = device.device_kind  # e.g. "NVIDIA H100 80GB HBM3"
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            name = details.get("device_name", "gpu")
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            name = torch.cuda.get_device_name(0)
    if name is None:
        return "cpu"
    words = re.split(r"[^a-z0-9]+", name.lower())
    words = [w for w in words if w and w not in ("nvidia", "tesla", "geforce")]
    return words[0] if words else "gpu"


def default_out(benchmark, *variant):
    """`benchmarks/results/<benchmark>_<backend>_<device>[_<variant>].json`."""
    parts = [benchmark, keras.backend.backend(), device_name(), *variant]
    return os.path.join(RESULTS_DIR, "_".join(parts) + ".json")
