#!/usr/bin/env bash
# IMDB with and without pretraining, on one GPU through the product's path
# (Keras on JAX, no TensorFlow):
#   - masked-language-model pretraining (imdb_pretraining.yaml), then
#   - the classifier of imdb_pretrained_transformer.yaml fine-tuned from it
#     (--init-from), beside the same classifier from scratch.
# Needs the folders of `attnpred prepare` as .device_data/NAME.tar.gz:
# imdb_pretraining (the corpus) and imdb_pretrained (IMDB, prepared with
# --tokenizers-from the corpus folder):
#   OUT=/some/folder LIMIT=540 PRETRAIN_LIMIT=380 bash benchmarks/device/pretraining.sh
set -u
export KERAS_BACKEND=jax
OUT=${OUT:?set OUT}
LIMIT=${LIMIT:-540}
PRETRAIN_LIMIT=${PRETRAIN_LIMIT:-380}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 \
  | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/ .*//')
export ATTNPRED_DEVICE=$gpu
for archive in .device_data/*.tar.gz; do tar -xzf "$archive" -C .device_data; done
mkdir -p $OUT/results runs
start=$SECONDS
classify() {  # NAME MEMORY_FRACTION LIMIT FLAGS...
  name=$1 fraction=$2 limit=$3; shift 3
  XLA_PYTHON_CLIENT_MEM_FRACTION=$fraction timeout $limit python3 \
    benchmarks/classification_quality.py run \
    --config examples/configs/imdb_pretrained_transformer.yaml \
    --prepared .device_data/imdb_pretrained --runs runs/$name \
    --out $OUT/results/classification_quality_jax_${gpu}_$name.json \
    -- "$@" > $OUT/results/$name.log 2>&1
}
XLA_PYTHON_CLIENT_MEM_FRACTION=.5 timeout $PRETRAIN_LIMIT python3 -m keras_attnpred.cli \
  pretrain --config examples/configs/imdb_pretraining.yaml \
  --prepared .device_data/imdb_pretraining --out runs/imdb_pretraining \
  > $OUT/results/imdb_pretraining.log 2>&1
echo "pretraining ended after $((SECONDS - start)) s" >> $OUT/results/imdb_pretraining.log
cp runs/imdb_pretraining/metrics.json $OUT/results/imdb_pretraining.metrics.json
left=$((LIMIT - (SECONDS - start)))
classify imdb_pretrained_transformer .4 $left --init-from runs/imdb_pretraining &
classify imdb_transformer_large_scratch .4 $left &
wait
tail -n 3 $OUT/results/*.log
tar -cf $OUT/results.tar -C $OUT results && rm -r $OUT/results
