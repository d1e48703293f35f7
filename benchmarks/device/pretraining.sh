#!/usr/bin/env bash
# Pretraining, then fine-tuning, on one GPU through the product's path
# (Keras on JAX, no TensorFlow):
#   1. `attnpred pretrain --config PRETRAIN_CONFIG` on .device_data/CORPUS,
#      once per objective in OBJECTIVES, side by side (two objectives share
#      the GPU for the same wall time: equal compute);
#   2. for each task NAME=CONFIG in TASKS and each pretraining run, the
#      classifier of CONFIG fine-tuned from it (--init-from) in full and
#      with LoRA (--lora-rank LORA_RANK), all side by side, each trained
#      and scored on its test part by benchmarks/classification_quality.py;
#      the models of SCRATCH (NAME=CONFIG, from .device_data/NAME) train
#      from scratch beside step 1.
# Needs the folders of `attnpred prepare` as .device_data/NAME.tar.gz: the
# corpus and each task's (prepared with --tokenizers-from the corpus).
#   OUT=/some/folder CORPUS=english_pretraining \
#   PRETRAIN_CONFIG=examples/configs/english_pretraining.yaml \
#   PRETRAIN_FLAGS="--epochs 6 --time-limit 300" OBJECTIVES="mlm electra" \
#   TASKS="sst2_pretrained=examples/configs/sst2_pretrained_transformer.yaml" \
#   timeout 560 bash benchmarks/device/pretraining.sh
# Stopped (SIGTERM, e.g. by timeout), it still packs what it has into
# $OUT/results.tar. Pretraining and fine-tuning may take two calls on one
# machine: TASKS="" pretrains only; a pretraining run already finished in
# runs/ (metrics.json) is fine-tuned without training it again.
set -u
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false
OUT=${OUT:?set OUT}
CORPUS=${CORPUS:?set CORPUS}
PRETRAIN_CONFIG=${PRETRAIN_CONFIG:?set PRETRAIN_CONFIG}
PRETRAIN_FLAGS=${PRETRAIN_FLAGS:-}
OBJECTIVES=${OBJECTIVES:-mlm}
TASKS=${TASKS-}  # empty: pretraining only
SCRATCH=${SCRATCH:-}
LORA_RANK=${LORA_RANK:-8}
LORA_FLAGS=${LORA_FLAGS:---learning-rate 0.0005}
FINETUNE_FLAGS=${FINETUNE_FLAGS:-}  # for every classifier, e.g. --epochs 1
source benchmarks/device/_setup.sh
results=$OUT/results
mkdir -p $results runs
start=$SECONDS
pack() {
  trap - EXIT
  kill $(jobs -p) 2>/dev/null
  echo "ended after $((SECONDS - start)) s" | tee -a $results/timeline.txt
  tail -n 2 $results/*.log
  tar -cf $OUT/results.tar -C $OUT results && rm -r $results
}
trap pack EXIT
trap 'exit 143' TERM
classify() {  # RESULT_NAME NAME=CONFIG FLAGS...
  name=$1 task=$2; shift 2
  python3 benchmarks/classification_quality.py run \
    --config ${task#*=} --prepared .device_data/${task%%=*} \
    --runs runs/$name --out $results/classification_quality_jax_${gpu}_$name.json \
    -- "$@" $FINETUNE_FLAGS > $results/$name.log 2>&1
}
for task in $SCRATCH; do classify ${task%%=*}_scratch $task & done
pretraining=()
for objective in $OBJECTIVES; do
  # Finished on this machine by an earlier call: fine-tuned, not redone.
  [ -f runs/${CORPUS}_$objective/metrics.json ] && continue
  python3 -m keras_attnpred.cli pretrain --config $PRETRAIN_CONFIG \
    --prepared .device_data/$CORPUS --objective $objective \
    --out runs/${CORPUS}_$objective $PRETRAIN_FLAGS \
    > $results/${CORPUS}_$objective.log 2>&1 &
  pretraining+=($!)
done
[ ${#pretraining[@]} -gt 0 ] && wait "${pretraining[@]}"
echo "pretraining ended after $((SECONDS - start)) s" | tee -a $results/timeline.txt
for objective in $OBJECTIVES; do
  run=runs/${CORPUS}_$objective
  cp $run/metrics.json $results/${CORPUS}_$objective.metrics.json || continue
  for task in $TASKS; do
    name=${task%%=*}
    classify ${name}_$objective $task --init-from $run &
    classify ${name}_${objective}_lora$LORA_RANK $task --init-from $run \
      --lora-rank $LORA_RANK $LORA_FLAGS &
  done
done
wait
