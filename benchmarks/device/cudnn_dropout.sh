#!/usr/bin/env bash
# cuDNN attention dropout on one GPU (issue 8): its tests, an IMDB Transformer
# trained with it and without it (3 epochs, mixed_bfloat16), and the issue-8
# encoder benchmark at dropout 0.1 and 0. XLA must keep cuDNN kernels out of
# CUDA graphs for the kernel to be used (keras_attnpred/ops), so every run
# here, all candidates included, has the same XLA_FLAGS. Results tarred into $OUT.
set -u
mkdir -p /tmp/r
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export XLA_FLAGS=--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL
nvidia-smi --query-gpu=name,driver_version --format=csv > /tmp/r/gpu.txt
XLA_FLAGS=--xla_gpu_enable_command_buffer=-CUDNN python3 -c \
  "import jax.numpy as jnp; print('incremental flag syntax ok', jnp.ones(3).sum())" \
  > /tmp/r/flag_syntax.log 2>&1
tail -2 /tmp/r/flag_syntax.log
python3 -m pytest tests/ops -p no:cacheprovider -q > /tmp/r/pytest_ops.log 2>&1
tail -3 /tmp/r/pytest_ops.log
for variant in cudnn xla; do
  flag=""; [ $variant = xla ] && flag="--no-flash-attention"
  XLA_PYTHON_CLIENT_PREALLOCATE=false timeout ${LIMIT:-300} python3 \
    benchmarks/classification_quality.py train --ids .device_data/imdb.npz \
    --models transformer --seeds 0 --epochs 3 --patience 3 --dropout 0.2 \
    --dtype-policy mixed_bfloat16 $flag --out /tmp/r/imdb_transformer_$variant.json \
    > /tmp/r/imdb_transformer_$variant.log 2>&1 &
done
wait
grep -h "test_accuracy" /tmp/r/imdb_transformer_*.log
for dropout in 0.1 0.0; do
  python3 benchmarks/encoder_throughput.py --dtype-policy mixed_bfloat16 \
    --repeats 3 --steps 20 --dropout $dropout --padding random \
    --out /tmp/r/encoder_throughput_d$dropout.json > /tmp/r/encoder_d$dropout.log 2>&1
  grep -v -i warn /tmp/r/encoder_d$dropout.log | tail -6
done
tar czf $OUT/cudnn_dropout.tar.gz -C /tmp r
