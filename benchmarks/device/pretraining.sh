#!/usr/bin/env bash
# IMDB with and without pretraining, on one GPU through the product's path
# (Keras on JAX, no TensorFlow):
#   - the Transformer of imdb_pretrained_transformer.yaml from scratch,
#     beside
#   - masked-language-model pretraining (imdb_pretraining.yaml), then the
#     same classifier fine-tuned from it (--init-from).
# Needs the folders of `attnpred prepare` as .device_data/NAME.tar.gz:
# imdb_pretraining (the corpus) and imdb_pretrained (IMDB, prepared with
# --tokenizers-from the corpus folder):
#   OUT=/some/folder LIMIT=560 bash benchmarks/device/pretraining.sh
set -u
export KERAS_BACKEND=jax
OUT=${OUT:?set OUT}
LIMIT=${LIMIT:-560}
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
classify imdb_transformer_large_scratch .25 $LIMIT &
XLA_PYTHON_CLIENT_MEM_FRACTION=.5 timeout $((LIMIT - 150)) python3 -m keras_attnpred.cli \
  pretrain --config examples/configs/imdb_pretraining.yaml \
  --prepared .device_data/imdb_pretraining --out runs/imdb_pretraining \
  > $OUT/results/imdb_pretraining.log 2>&1
echo "pretraining ended after $((SECONDS - start)) s" >> $OUT/results/imdb_pretraining.log
cp runs/imdb_pretraining/metrics.json $OUT/results/imdb_pretraining.metrics.json
classify imdb_pretrained_transformer .5 $((LIMIT - (SECONDS - start))) \
  --init-from runs/imdb_pretraining
wait
tail -n 3 $OUT/results/*.log
tar -cf $OUT/results.tar -C $OUT results && rm -r $OUT/results
