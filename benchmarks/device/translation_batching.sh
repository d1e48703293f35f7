#!/usr/bin/env bash
# Does the batching change what the Multi30k de->en Transformer learns?
# Three 15-epoch trainings side by side from the same prepared folder
# (.device_data/multi30k_de_en.tar.gz), differing only in their batches:
#   buckets: 128 pairs a batch, length buckets [16, 24, 32] (the config's)
#   tokens:  about 2,560 token positions a batch (--max-tokens), same buckets
#   padded:  128 pairs a batch in random order, all padded to 63 or 64
#            (--bucket-boundaries 64), as the old benchmark script trained
#   OUT=/some/folder LIMIT=330 bash benchmarks/device/translation_batching.sh
set -u
export KERAS_BACKEND=jax
OUT=${OUT:?set OUT}
LIMIT=${LIMIT:-330}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 \
  | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/ .*//')
export ATTNPRED_DEVICE=$gpu
tar -xzf .device_data/multi30k_de_en.tar.gz -C .device_data
mkdir -p $OUT/batching
config=examples/configs/multi30k_de_en_transformer.yaml
variant() {  # NAME FLAGS...
  name=$1; shift
  XLA_PYTHON_CLIENT_MEM_FRACTION=.2 timeout $LIMIT python3 -m keras_attnpred.cli \
    train --config $config --prepared .device_data/multi30k_de_en \
    --epochs 15 --out runs/batching/$name "$@" > $OUT/batching/$name.log 2>&1 &
}
variant buckets
variant tokens --max-tokens 2560
variant padded --bucket-boundaries 64
wait
for name in buckets tokens padded; do
  cp runs/batching/$name/metrics.json $OUT/batching/$name.metrics.json
  tail -n 2 $OUT/batching/$name.log
done
tar -cf $OUT/batching.tar -C $OUT batching && rm -r $OUT/batching
