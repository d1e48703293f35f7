#!/usr/bin/env bash
# cuDNN attention dropout on one GPU (issue 8): its tests, an IMDB
# Transformer trained through it (3 epochs, mixed_bfloat16), and the issue-8
# encoder benchmark at dropout 0.1 and 0. XLA must keep cuDNN kernels out of
# CUDA graphs for the kernel to be used (keras_attnpred/ops), so every run
# here, all candidates included, has the same XLA_FLAGS. Results tarred into
# $OUT.
# The Transformer goes through the product's path:
# `benchmarks/classification_quality.py run` with
# examples/configs/imdb_transformer.yaml (`attnpred train --prepared`, then
# `attnpred evaluate`). It needs the IMDB folder of `attnpred prepare
# --config examples/configs/imdb_bigru_bigrams.yaml` (the same data
# settings) as .device_data/imdb.tar.gz, as for quality.sh.
# Until f47217f this script also trained the same Transformer with
# `--no-flash-attention` (the explicit attention path) alongside, through the
# old classification_quality.py. `attnpred train` has no such switch, so that
# variant is gone; its figures stay in benchmarks/RESULTS.md and
# benchmarks/results/imdb_transformer_cudnn_dropout_h200.json, the script
# that made them in git history
# (`git show 6714540:benchmarks/device/cudnn_dropout.sh`).
set -u
mkdir -p /tmp/r
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export XLA_FLAGS=--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL
nvidia-smi --query-gpu=name,driver_version --format=csv > /tmp/r/gpu.txt
# "NVIDIA H200" -> h200
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1 | awk '{print tolower($2)}')
XLA_FLAGS=--xla_gpu_enable_command_buffer=-CUDNN python3 -c \
  "import jax.numpy as jnp; print('incremental flag syntax ok', jnp.ones(3).sum())" \
  > /tmp/r/flag_syntax.log 2>&1
tail -2 /tmp/r/flag_syntax.log
python3 -m pytest tests/ops -p no:cacheprovider -q > /tmp/r/pytest_ops.log 2>&1
tail -3 /tmp/r/pytest_ops.log
[ -d .device_data/imdb ] || tar -xzf .device_data/imdb.tar.gz -C .device_data
# No preallocation: the driver process initialises JAX on the GPU too
# (to name the device) while `attnpred train` runs under it.
XLA_PYTHON_CLIENT_PREALLOCATE=false timeout ${LIMIT:-300} python3 \
  benchmarks/classification_quality.py run \
  --config examples/configs/imdb_transformer.yaml \
  --prepared .device_data/imdb --runs /tmp/runs --seeds 0 \
  --out /tmp/r/classification_quality_jax_${gpu}_imdb_transformer.json \
  > /tmp/r/imdb_transformer.log 2>&1
grep -h "test_accuracy" /tmp/r/imdb_transformer.log
for dropout in 0.1 0.0; do
  python3 benchmarks/encoder_throughput.py --dtype-policy mixed_bfloat16 \
    --repeats 3 --steps 20 --dropout $dropout --padding random \
    --out /tmp/r/encoder_throughput_d$dropout.json > /tmp/r/encoder_d$dropout.log 2>&1
  grep -v -i warn /tmp/r/encoder_d$dropout.log | tail -6
done
tar czf $OUT/cudnn_dropout.tar.gz -C /tmp r
