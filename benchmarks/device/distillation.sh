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
# Needs the teacher runs, IMDB_TEACHER and MULTI30K_TEACHER (by default
# .device_data/imdb_pretrained_transformer and
# .device_data/multi30k_de_en_transformer, shipped as archives; on a
# machine that trained them, their folders under runs/), and the prepared
# folders .device_data/IMDB_PREPARED and .device_data/MULTI30K_PREPARED
# (`attnpred prepare --config STUDENT.yaml --tokenizers-from TEACHER_RUN`,
# or the teacher's own folder; IMDB's with --unlabeled-path), shipped as
# archives. The student runs come back whole in
# $OUT/students.tar.part* (a few MB each): BLEU, TFLite sizes and CPU latency are
# measured on the CPU machine (benchmarks/translation_quality.py score,
# benchmarks/export_quality.py).
# IMDB_STUDENTS and MULTI30K_STUDENTS name other student configs of
# examples/configs (e.g. multi30k_de_en_distilled_bahdanau_wide).
#   OUT=/some/folder LIMIT=560 bash benchmarks/device/distillation.sh [imdb|multi30k|both]
set -u
export KERAS_BACKEND=jax
OUT=${OUT:?set OUT}
LIMIT=${LIMIT:-560}
MODE=${1:-both}
IMDB_TEACHER=${IMDB_TEACHER:-.device_data/imdb_pretrained_transformer}
MULTI30K_TEACHER=${MULTI30K_TEACHER:-.device_data/multi30k_de_en_transformer}
IMDB_PREPARED=${IMDB_PREPARED:-imdb_distilled}
MULTI30K_PREPARED=${MULTI30K_PREPARED:-multi30k_de_en_distilled}
IMDB_STUDENTS=${IMDB_STUDENTS:-imdb_distilled_transformer imdb_distilled_bigru}
MULTI30K_STUDENTS=${MULTI30K_STUDENTS:-multi30k_de_en_distilled_transformer multi30k_de_en_distilled_bahdanau}
FRACTION=${FRACTION:-.22}  # of the GPU's memory, for each student
source benchmarks/device/_setup.sh
mkdir -p $OUT/results students
start=$SECONDS
distill() {  # TEACHER CONFIG PREPARED NAME MEMORY_FRACTION
  teacher=$1 config=$2 prepared=$3 name=$4 fraction=$5
  left=$((LIMIT - (SECONDS - start) - 30))
  XLA_PYTHON_CLIENT_MEM_FRACTION=$fraction timeout $left python3 -m keras_attnpred.cli \
    distill $teacher --student examples/configs/$config.yaml \
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
  for student in $IMDB_STUDENTS; do
    distill $IMDB_TEACHER $student $IMDB_PREPARED $student $FRACTION &
  done
fi
if [ "$MODE" != imdb ]; then
  for student in $MULTI30K_STUDENTS; do
    distill $MULTI30K_TEACHER $student $MULTI30K_PREPARED $student $FRACTION &
  done
fi
wait
# Each student as benchmarks/run_transfer.py packs it (its model without
# the optimizer), all in one archive cut into pieces of 15 MiB:
#   cat students.tar.part* | tar -x; run_transfer.py unpack transfer/NAME NAME RUN
for run in students/*/; do
  [ -f $run/metrics.json ] && python3 benchmarks/run_transfer.py pack $run \
    $OUT/transfer/$(basename $run) >> $OUT/results/transfer.log 2>&1
done
tar -cf - -C $OUT transfer | split -b 15M -d - $OUT/students.tar.part \
  && rm -r $OUT/transfer
tail -n 3 $OUT/results/*.log
tar -cf $OUT/results.tar -C $OUT results && rm -r $OUT/results
