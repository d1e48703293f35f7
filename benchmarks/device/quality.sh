#!/usr/bin/env bash
# The README's quality rows, trained side by side on one GPU through the
# product's path (`attnpred train --prepared`, Keras on JAX, no TensorFlow).
#
# Needs the prepared folders of `attnpred prepare` (made on a machine with
# TensorFlow Text) as .device_data/NAME.tar.gz, NAME one of
# multi30k_de_en, imdb, newsgroups:
#   OUT=/some/folder LIMIT=520 bash benchmarks/device/quality.sh first|second
# first: Multi30k de->en Transformer, IMDB BiGRU seeds 0 and 1
# second: Multi30k de->en Bahdanau GRU, 20 Newsgroups Transformer seed 0,
#         IMDB BiGRU seed 2
# Classifiers are evaluated there (`attnpred evaluate --prepared`); each
# translator comes back in pieces (benchmarks/run_transfer.py) and is scored
# here with `benchmarks/translation_quality.py score`.
set -u
export KERAS_BACKEND=jax
OUT=${OUT:?set OUT}
LIMIT=${LIMIT:-520}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 \
  | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/ .*//')
nvidia-smi --query-gpu=name,driver_version --format=csv > $OUT/gpu.txt
# The drivers name the device from this instead of starting JAX themselves
# (which would take a share of the GPU's memory of its own).
export ATTNPRED_DEVICE=$gpu
for archive in .device_data/*.tar.gz; do tar -xzf "$archive" -C .device_data; done
mkdir -p runs/quality $OUT/results

job() {  # NAME MEMORY_FRACTION SCRIPT ARGS...
  name=$1 fraction=$2; shift 2
  XLA_PYTHON_CLIENT_MEM_FRACTION=$fraction timeout $LIMIT python3 "$@" \
    > $OUT/results/$name.log 2>&1 &
}
translation() {  # CONFIG PREPARED
  job $1 .2 benchmarks/translation_quality.py train \
    --config examples/configs/$1.yaml --prepared .device_data/$2 \
    --out $OUT/results/translation_quality_jax_${gpu}_$1.json
}
classification() {  # CONFIG PREPARED SEED
  job $1_seed$3 .2 benchmarks/classification_quality.py run \
    --config examples/configs/$1.yaml --prepared .device_data/$2 --seeds $3 \
    --out $OUT/results/classification_quality_jax_${gpu}_$1_seed$3.json
}

case "$1" in
first)
  translation multi30k_de_en_transformer multi30k_de_en
  classification imdb_bigru_bigrams imdb 0
  classification imdb_bigru_bigrams imdb 1
  wait
  python3 benchmarks/run_transfer.py pack runs/quality/multi30k_de_en_transformer $OUT
  ;;
second)
  translation multi30k_de_en_bahdanau multi30k_de_en
  classification newsgroups_transformer_bigrams newsgroups 0
  classification imdb_bigru_bigrams imdb 2
  wait
  python3 benchmarks/run_transfer.py pack runs/quality/multi30k_de_en_bahdanau $OUT
  ;;
*)
  echo "usage: quality.sh first|second" >&2; exit 2 ;;
esac
tail -n 3 $OUT/results/*.log
tar -cf $OUT/results.tar -C $OUT results && rm -r $OUT/results
