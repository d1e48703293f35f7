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
    from keras_attnpred.data import PreparedDataset
    from keras_attnpred.data import RaggedIds

    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 65, 40)
    PreparedDataset(
        "sentiment",
        {"train": {
            "ids": RaggedIds.from_rows(
                [rng.integers(4, 100, n) for n in lengths]
            ),
            "labels": rng.integers(0, 2, 40).astype("int32"),
        }},
        label_names=["negative", "positive"],
        vocabulary_sizes={"tokenizer": 100},
    ).save(str(tmp_path / "prepared"))
    out = tmp_path / "report.json"
    code = (
        "import runpy, sys\n"
        "for name in ('tensorflow', 'tensorflow_text', 'keras_hub'):\n"
        "    sys.modules[name] = None\n"  # any import of them fails
        f"sys.argv = [{os.path.join(BENCHMARKS, 'padding_throughput.py')!r},"
        f" '--prepared', {str(tmp_path / 'prepared')!r}, '--layers', '1',"
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


def test_count_step_kernels_counts_the_loop_through_calls(monkeypatch):
    monkeypatch.syspath_prepend(BENCHMARKS)
    from count_step_kernels import loop_kernels

    hlo = """HloModule jit_pure

%fused_add (p: f32[4]) -> f32[4] {
  %p = f32[4]{0} parameter(0)
  ROOT %add = f32[4]{0} add(%p, %p)
}

%command_buffer (p0: f32[4]) -> f32[4] {
  %p0 = f32[4]{0} parameter(0)
  %gemm = (f32[4]{0}, s8[0]{0}) custom-call(%p0), custom_call_target="__cublas$gemm"
  %gte = f32[4]{0} get-tuple-element(%gemm), index=0
  ROOT %fusion.2 = f32[4]{0} fusion(%gte), kind=kLoop, calls=%fused_add
}

%body (state: (s32[], f32[4])) -> (s32[], f32[4]) {
  %state = (s32[], f32[4]{0}) parameter(0)
  %t = s32[] get-tuple-element(%state), index=0
  %x = f32[4]{0} get-tuple-element(%state), index=1
  %call = f32[4]{0} call(%x), to_apply=%command_buffer
  %copy = f32[4]{0} copy(%call)
  %one = s32[] constant(1)
  %next = s32[] fusion(%t, %one), kind=kLoop, calls=%fused_add
  ROOT %out = (s32[], f32[4]{0}) tuple(%next, %copy)
}

%cond (state.1: (s32[], f32[4])) -> pred[] {
  %state.1 = (s32[], f32[4]{0}) parameter(0)
  ROOT %less = pred[] fusion(%state.1), kind=kLoop, calls=%fused_add
}

ENTRY %main (x: f32[4]) -> (s32[], f32[4]) {
  %x.1 = f32[4]{0} parameter(0)
  %prologue = f32[4]{0} fusion(%x.1), kind=kLoop, calls=%fused_add
  %zero = s32[] constant(0)
  %init = (s32[], f32[4]{0}) tuple(%zero, %prologue)
  ROOT %while = (s32[], f32[4]{0}) while(%init), condition=%cond, body=%body
}
"""
    counts = loop_kernels(hlo)
    # The prologue fusion before the loop is not a step's work.
    assert counts == {
        "custom-call:__cublas$gemm": 1,
        "fusion:kLoop": 3,
        "copy": 1,
    }


def test_padding_throughput_reads_a_prepared_folder_as_the_npz(
    tmp_path, monkeypatch
):
    """`--prepared` (a folder of `attnpred prepare`) gives the rows, labels
    and lengths that `--ids` gives for the same texts padded into an .npz."""
    import argparse

    from keras_attnpred.data import PreparedDataset
    from keras_attnpred.data import RaggedIds

    monkeypatch.syspath_prepend(BENCHMARKS)
    from padding_throughput import load_reviews

    rng = np.random.default_rng(0)
    rows = [rng.integers(4, 100, n) for n in rng.integers(3, 40, 30)]
    labels = rng.integers(0, 2, 30).astype("int32")
    PreparedDataset(
        "sentiment",
        {"train": {"ids": RaggedIds.from_rows(rows), "labels": labels}},
        label_names=["negative", "positive"],
        vocabulary_sizes={"tokenizer": 100},
    ).save(str(tmp_path / "prepared"))
    padded = np.zeros((30, 40), dtype="uint16")
    for i, row in enumerate(rows):
        padded[i, : len(row)] = row
    np.savez(tmp_path / "ids.npz", train_ids=padded, train_labels=labels)

    def read(**source):
        args = argparse.Namespace(
            reviews=20, length=24, part="train", seed=0,
            **{"ids": None, "prepared": None, **source},
        )
        return load_reviews(args)

    from_npz = read(ids=str(tmp_path / "ids.npz"))
    from_folder = read(prepared=str(tmp_path / "prepared"))
    for a, b in zip(from_npz, from_folder):
        np.testing.assert_array_equal(a, b)
    assert from_folder[0].shape == (20, 24)
    assert from_folder[2].max() <= 24


def test_training_steps_match_train_on_batch(monkeypatch):
    """The speed benchmarks' compiled step is the step `train_on_batch`
    takes, and `run` leaves the trained weights in the model."""
    import keras

    monkeypatch.syspath_prepend(BENCHMARKS)
    from _training_steps import training_steps

    def model():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(16, activation="relu")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(3)(hidden))
        model.compile(optimizer="sgd", loss="mse", jit_compile=True)
        return model

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8)).astype("float32")
    y = rng.standard_normal((4, 3)).astype("float32")
    ours, reference = model(), model()
    run = training_steps(ours)
    first_loss = run([(x, y)])
    reference.train_on_batch(x, y)
    for a, b in zip(ours.weights, reference.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    # Two runs carry on from the weights the first left in the model.
    run([(x, y)] * 10)
    assert run([(x, y)]) < first_loss
    assert int(ours.optimizer.iterations) == 12
