#!/usr/bin/env bash
# Knowledge distillation (issue 22) on one GPU through the product's path
# (Keras on JAX, no TensorFlow): `attnpred distill` of
#   - IMDB: the fine-tuned `large` teacher (runs/imdb_pretrained_transformer,
#     from pretraining.sh) into imdb_distilled_transformer.yaml (a small
#     Transformer, soft targets + unlabelled reviews + head-averaged
#     last-layer attention) and imdb_distilled_bigru.yaml (a BiGRU with
#     attention pooling), side by side; each student's test accuracy
#     (`attnpred evaluate --prepared`);
#   - Multi30k de->en: the Transformer teacher
#     (runs/multi30k_de_en_transformer) into
#     multi30k_de_en_distilled_transformer.yaml and
#     multi30k_de_en_distilled_bahdanau.yaml (sequence-level distillation:
#     the teacher's beam-4 translations of the training sources, with the
#     references).
# Needs, as .device_data/NAME.tar.gz: the teacher run folders
# imdb_pretrained_transformer and multi30k_de_en_transformer (tar -C runs),
# and the prepared folders imdb_distilled and multi30k_de_en_distilled (`attnpred prepare --config STUDENT.yaml
# --tokenizers-from TEACHER_RUN`). The student runs come back whole in
# $OUT/students.tar (a few MB each): BLEU, TFLite sizes and CPU latency are
# measured on the CPU machine (benchmarks/translation_quality.py score,
# benchmarks/export_quality.py).
#   OUT=/some/folder LIMIT=560 bash benchmarks/device/distillation.sh [imdb|multi30k|both]
set -u
export KERAS_BACKEND=jax
OUT=${OUT:?set OUT}
LIMIT=${LIMIT:-560}
MODE=${1:-both}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 \
  | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/ .*//')
export ATTNPRED_DEVICE=$gpu
for archive in .device_data/*.tar.gz; do tar -xzf "$archive" -C .device_data; done
mkdir -p $OUT/results students
start=$SECONDS
distill() {  # TEACHER CONFIG PREPARED NAME MEMORY_FRACTION
  teacher=$1 config=$2 prepared=$3 name=$4 fraction=$5
  left=$((LIMIT - (SECONDS - start) - 30))
  XLA_PYTHON_CLIENT_MEM_FRACTION=$fraction timeout $left python3 -m keras_attnpred.cli \
    distill .device_data/$teacher --student examples/configs/$config.yaml \
    --prepared .device_data/$prepared --out students/$name \
    > $OUT/results/$name.log 2>&1
  echo "distillation ended after $((SECONDS - start)) s" >> $OUT/results/$name.log
  if [ -f students/$name/metrics.json ]; then
    cp students/$name/metrics.json $OUT/results/$name.metrics.json
    python3 -m keras_attnpred.cli evaluate students/$name \
      --prepared .device_data/$prepared --part test \
      > $OUT/results/$name.test.json 2>> $OUT/results/$name.log
  fi
}
if [ "$MODE" != multi30k ]; then
  distill imdb_pretrained_transformer imdb_distilled_transformer imdb_distilled \
    imdb_distilled_transformer .22 &
  distill imdb_pretrained_transformer imdb_distilled_bigru imdb_distilled \
    imdb_distilled_bigru .22 &
fi
if [ "$MODE" != imdb ]; then
  distill multi30k_de_en_transformer multi30k_de_en_distilled_transformer \
    multi30k_de_en_distilled multi30k_de_en_distilled_transformer .22 &
  distill multi30k_de_en_transformer multi30k_de_en_distilled_bahdanau \
    multi30k_de_en_distilled multi30k_de_en_distilled_bahdanau .22 &
fi
wait
# The checkpoints and backups stay behind: model.keras is the run.
tar -cf $OUT/students.tar --exclude=checkpoints --exclude=backup --exclude=logs students
tail -n 3 $OUT/results/*.log
tar -cf $OUT/results.tar -C $OUT results && rm -r $OUT/results
