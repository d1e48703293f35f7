#!/usr/bin/env bash
# Issue 22's two teachers and issue 24's searches, side by side on one GPU
# (Keras on JAX, no TensorFlow), within LIMIT seconds:
#   - pretraining.sh on IMDB: MLM pretraining (examples/configs/
#     imdb_pretraining.yaml on .device_data/imdb_pretraining, with
#     PRETRAIN_FLAGS), then the IMDB classifier
#     (examples/configs/imdb_pretrained_transformer.yaml on
#     .device_data/imdb_pretrained, prepared with --tokenizers-from the
#     corpus and --unlabeled-path) fine-tuned from it in full and with LoRA
#     (LORA_FLAGS), each scored on the test part: issue 21's IMDB row;
#   - the Multi30k de->en Transformer (examples/configs/
#     multi30k_de_en_transformer.yaml on .device_data/multi30k_de_en),
#     trained and scored by benchmarks/translation_quality.py, then packed
#     for the CPU machine by benchmarks/run_transfer.py;
#     (TEACHER_FLAGS: more `attnpred train` flags);
#   - searches.sh (TREC-6, random and Bayesian).
# JOBS (default "imdb multi30k searches") picks which of the three run.
# TASKS="" pretrains only (pretraining.sh fine-tunes in a later call). The
# teachers stay in runs/ for distillation.sh on the same machine:
#   IMDB_TEACHER=runs/imdb_pretrained_mlm/imdb_pretrained_transformer_seed0
#   MULTI30K_TEACHER=runs/quality/multi30k_de_en_transformer
#   OUT=/some/folder LIMIT=570 PRETRAIN_FLAGS="--epochs 8 --time-limit 330" \
#     bash benchmarks/device/teachers_and_searches.sh
set -u
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false
OUT=${OUT:?set OUT}
LIMIT=${LIMIT:-570}
source benchmarks/device/_setup.sh
JOBS=${JOBS:-imdb multi30k searches}
mkdir -p $OUT/teacher
[[ " $JOBS " == *" imdb "* ]] && OUT=$OUT CORPUS=imdb_pretraining \
  PRETRAIN_CONFIG=examples/configs/imdb_pretraining.yaml \
  TASKS=${TASKS-imdb_pretrained=examples/configs/imdb_pretrained_transformer.yaml} \
  timeout $LIMIT bash benchmarks/device/pretraining.sh &
[[ " $JOBS " == *" multi30k "* ]] && (
  timeout $((LIMIT - 40)) python3 benchmarks/translation_quality.py train \
    --config examples/configs/multi30k_de_en_transformer.yaml \
    --prepared .device_data/multi30k_de_en \
    --out $OUT/teacher/translation_quality_jax_${gpu}_multi30k_de_en_transformer.json \
    -- ${TEACHER_FLAGS:-} > $OUT/teacher/multi30k_de_en_transformer.log 2>&1
  python3 benchmarks/run_transfer.py pack \
    runs/quality/multi30k_de_en_transformer $OUT/teacher \
    >> $OUT/teacher/multi30k_de_en_transformer.log 2>&1
) &
[[ " $JOBS " == *" searches "* ]] \
  && OUT=$OUT LIMIT=$((LIMIT - 30)) bash benchmarks/device/searches.sh &
wait
if [[ " $JOBS " == *" multi30k "* ]]; then
  tail -n 3 $OUT/teacher/*.log
  # Few files come back: the teacher's report and log in one archive.
  tar -cf $OUT/teacher_results.tar -C $OUT/teacher \
    $(cd $OUT/teacher && ls *.log *.json) \
    && rm $OUT/teacher/*.log $OUT/teacher/*.json
fi
