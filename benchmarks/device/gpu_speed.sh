#!/usr/bin/env bash
# The GPU speed benchmarks of benchmarks/RESULTS.md, on one GPU with Keras on JAX.
#   bash benchmarks/device/gpu_speed.sh encoder    # ~6 min
#   bash benchmarks/device/gpu_speed.sh decoding   # ~5 min
#   bash benchmarks/device/gpu_speed.sh kernels    # ~2 min
# encoder ("Encoder training throughput on the GPU"): the issue-8 encoder
# benchmark at dropout 0.1 and 0, then 3 IMDB epochs of the small Transformer
# through the cuDNN attention-dropout kernel (a check that it learns as the
# explicit path does): `benchmarks/classification_quality.py run` with
# examples/configs/imdb_transformer.yaml, i.e. `attnpred train --prepared`
# and `attnpred evaluate`. It needs the IMDB folder of `attnpred prepare
# --config examples/configs/imdb_bigru_bigrams.yaml` (the same data
# settings) as .device_data/imdb.tar.gz, as for quality.sh.
# decoding ("Decoding speed on the GPU"): the decoding benchmark at the
# issue's size (3+3, width 256) and at Transformer-base size (6+6, width 512,
# feed-forward 2048, 32k ids), one process after the other; then the GPU
# tests of quantized layers.
# kernels ("Kernels per GPU decoding step"): kernels per decoding step,
# cached and uncached, at the same two sizes (count_step_kernels.py).
# XLA_FLAGS keeps cuDNN kernels out of CUDA graphs, which the cuDNN
# attention-dropout kernel needs (keras_attnpred/ops); every candidate runs
# with it. Results go to $OUT as <benchmark>_jax_<gpu>[_<variant>].json.
set -u
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export XLA_FLAGS=--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL
nvidia-smi --query-gpu=name,driver_version --format=csv > $OUT/gpu.txt
# "NVIDIA H200" -> h200
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1 | awk '{print tolower($2)}')
case "$1" in
encoder)
  for dropout in 0.1 0; do
    timeout 150 python3 benchmarks/encoder_throughput.py \
      --dtype-policy mixed_bfloat16 --repeats 3 --steps 20 --dropout $dropout \
      --padding random --out $OUT/encoder_throughput_jax_${gpu}_dropout$dropout.json \
      > $OUT/encoder_dropout$dropout.log 2>&1
    grep -v -i warn $OUT/encoder_dropout$dropout.log | tail -5
  done
  [ -d .device_data/imdb ] || tar -xzf .device_data/imdb.tar.gz -C .device_data
  # No preallocation: the driver process initialises JAX on the GPU too
  # (to name the device) while `attnpred train` runs under it.
  XLA_PYTHON_CLIENT_PREALLOCATE=false timeout 300 python3 \
    benchmarks/classification_quality.py run \
    --config examples/configs/imdb_transformer.yaml \
    --prepared .device_data/imdb --runs /tmp/runs --seeds 0 \
    --out $OUT/classification_quality_jax_${gpu}_imdb_transformer.json \
    > $OUT/imdb_transformer.log 2>&1
  grep -h "accuracy" $OUT/imdb_transformer.log | tail -4
  ;;
decoding)
  timeout 200 python3 benchmarks/decoding_speed.py --repeats 3 \
    --out $OUT/decoding_speed_jax_${gpu}_transformer.json > $OUT/decoding.log 2>&1
  tail -6 $OUT/decoding.log
  timeout 260 python3 benchmarks/decoding_speed.py --repeats 3 \
    --num-layers 6 --model-dim 512 --num-heads 8 --intermediate-dim 2048 \
    --vocabulary-size 32000 \
    --out $OUT/decoding_speed_jax_${gpu}_transformer_base.json \
    > $OUT/decoding_base.log 2>&1
  tail -6 $OUT/decoding_base.log
  JAX_DEFAULT_MATMUL_PRECISION=highest timeout 100 python3 -m pytest -q \
    -p no:cacheprovider tests/layers tests/decoding/test_greedy_search.py \
    -k "quantized or int8" > $OUT/pytest_gpu.log 2>&1
  tail -3 $OUT/pytest_gpu.log
  ;;
kernels)
  timeout 150 python3 benchmarks/count_step_kernels.py --batch-sizes 1 32 \
    --out $OUT/count_step_kernels_jax_${gpu}_transformer.json > $OUT/kernels.log 2>&1
  timeout 200 python3 benchmarks/count_step_kernels.py --batch-sizes 1 32 \
    --num-layers 6 --model-dim 512 --num-heads 8 --intermediate-dim 2048 \
    --vocabulary-size 32000 \
    --out $OUT/count_step_kernels_jax_${gpu}_transformer_base.json \
    > $OUT/kernels_base.log 2>&1
  grep -h "per step\|launching" $OUT/kernels.log $OUT/kernels_base.log
  ;;
*)
  echo "usage: $0 encoder|decoding|kernels" >&2
  exit 2
  ;;
esac
