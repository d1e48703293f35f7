import json
import os
import subprocess
import sys

import numpy as np
import pytest

BENCHMARKS = os.path.join(os.path.dirname(__file__), "..", "benchmarks")
ROOT = os.path.dirname(BENCHMARKS)


@pytest.mark.slow  # compiles a tiny model for 4 batch shapes: ~30 s
def test_padding_throughput_runs_on_jax_without_tensorflow(tmp_path):
    """The GPU machine has JAX and no TensorFlow: the timed path must not
    import it (nor TensorFlow Text, nor KerasHub)."""
    pytest.importorskip("jax")
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 65, 40)
    ids = rng.integers(4, 100, (40, 64))
    ids[np.arange(64)[None] >= lengths[:, None]] = 0
    np.savez(
        tmp_path / "ids.npz",
        train_ids=ids.astype("uint16"),
        train_labels=rng.integers(0, 2, 40).astype("int32"),
    )
    out = tmp_path / "report.json"
    code = (
        "import runpy, sys\n"
        "for name in ('tensorflow', 'tensorflow_text', 'keras_hub'):\n"
        "    sys.modules[name] = None\n"  # any import of them fails
        f"sys.argv = [{os.path.join(BENCHMARKS, 'padding_throughput.py')!r},"
        f" '--ids', {str(tmp_path / 'ids.npz')!r}, '--layers', '1',"
        " '--model-dim', '8', '--heads', '2', '--intermediate-dim', '8',"
        " '--length', '64', '--batch', '4', '--bucket-step', '16',"
        " '--vocabulary-size', '100', '--reviews', '40', '--repeats', '1',"
        f" '--peak-size', '64', '--out', {str(out)!r}]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        timeout=600, cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "jax",
             "PYTHONPATH": os.path.abspath(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    padded = report["results"]["padded"]
    bucketed = report["results"]["bucketed"]
    assert padded["shapes"] == [[4, 64]]
    assert {length for _, length in bucketed["shapes"]} <= {16, 32, 48, 64}
    assert padded["positions"] == 40 * 64
    assert report["summary"]["real_tokens"] == lengths.sum()
    assert bucketed["positions"] < padded["positions"]
    assert report["summary"]["speedup"] > 0
