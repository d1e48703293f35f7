#!/usr/bin/env bash
# Reruns on one GPU after two changes of 2026-12-01 (third session): the flat
# query/key/value projection kernels and each sublayer's own initial seed.
#   bash benchmarks/device/independent_init.sh translation   # ~6 min
#   bash benchmarks/device/independent_init.sh speed         # ~6 min
# translation: the README's de->en Transformer (55 epochs, last 8 averaged,
# beam 4) and Bahdanau GRU side by side, with the GPU tests of the changed
# layers alongside. speed: the issue-8 encoder benchmark at dropout 0.1 and
# 0, the GPU decoding benchmark, and 3 IMDB epochs of the small Transformer.
# Results go to $OUT; score the translations here with
# `benchmarks/translation_quality.py score`.
set -u
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export XLA_FLAGS=--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL
nvidia-smi --query-gpu=name,driver_version --format=csv > $OUT/gpu.txt
case "$1" in
translation)
  pair=multi30k-de-en
  XLA_PYTHON_CLIENT_MEM_FRACTION=.35 timeout 560 python3 \
    benchmarks/translation_quality.py train --ids .device_data/$pair.npz \
    --beam-width 4 --models transformer --epochs 55 --patience 10 \
    --average-last 8 --out $OUT/translation_${pair}_transformer_averaged.json \
    > $OUT/transformer.log 2>&1 &
  XLA_PYTHON_CLIENT_MEM_FRACTION=.35 timeout 560 python3 \
    benchmarks/translation_quality.py train --ids .device_data/$pair.npz \
    --models bahdanau --epochs 15 --patience 3 \
    --out $OUT/translation_${pair}_bahdanau.json > $OUT/bahdanau.log 2>&1 &
  XLA_PYTHON_CLIENT_MEM_FRACTION=.2 timeout 400 python3 -m pytest -q \
    -p no:cacheprovider tests/ops tests/layers/test_multi_head_attention.py \
    tests/layers/test_transformer_decoder.py > $OUT/pytest_gpu.log 2>&1
  tail -3 $OUT/pytest_gpu.log
  wait
  tail -4 $OUT/transformer.log $OUT/bahdanau.log
  ;;
speed)
  for dropout in 0.1 0.0; do
    timeout 150 python3 benchmarks/encoder_throughput.py \
      --dtype-policy mixed_bfloat16 --repeats 3 --steps 20 --dropout $dropout \
      --padding random --out $OUT/encoder_throughput_d$dropout.json \
      > $OUT/encoder_d$dropout.log 2>&1
    grep -v -i warn $OUT/encoder_d$dropout.log | tail -5
  done
  timeout 150 python3 benchmarks/decoding_speed.py --repeats 3 \
    --out $OUT/decoding_speed_jax_transformer.json > $OUT/decoding.log 2>&1
  tail -6 $OUT/decoding.log
  XLA_PYTHON_CLIENT_PREALLOCATE=false timeout 150 python3 \
    benchmarks/classification_quality.py train --ids .device_data/imdb.npz \
    --models transformer --seeds 0 --epochs 3 --patience 3 --dropout 0.2 \
    --dtype-policy mixed_bfloat16 --out $OUT/imdb_transformer.json \
    > $OUT/imdb_transformer.log 2>&1
  grep -h "accuracy" $OUT/imdb_transformer.log | tail -4
  ;;
*) echo "usage: $0 translation|speed" >&2; exit 2 ;;
esac
