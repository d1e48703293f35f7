#!/usr/bin/env bash
# Random against Bayesian search (issue 24) on one GPU, side by side,
# through `attnpred tune` (benchmarks/tune_quality.py): the hand-set
# config examples/configs/NAME.yaml, then TRIALS trials of each algorithm
# over examples/spaces/NAME.yaml on .device_data/PREPARED (an archive of
# `attnpred prepare --config examples/configs/NAME.yaml`), each best trial
# scored on the test part. Needs keras-tuner[bayesian] beside Keras.
# WORKERS (default 3) processes train each search's trials (KerasTuner's
# distributed search on 127.0.0.1); 0 trains them one after another.
#   OUT=/some/folder LIMIT=500 bash benchmarks/device/searches.sh
# Stopped by LIMIT, a search continues where it was when the script runs
# again on the same machine (the searches live in runs/searches/).
# Writes $OUT/searches.tar: each algorithm's report, log, results.csv,
# results.json, objective.png and best.yaml.
set -u
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false
OUT=${OUT:?set OUT}
LIMIT=${LIMIT:-500}
NAME=${NAME:-trec_transformer}
PREPARED=${PREPARED:-trec}
TRIALS=${TRIALS:-20}
WORKERS=${WORKERS:-3}
source benchmarks/device/_setup.sh
results=$OUT/searches
mkdir -p $results
for algorithm in random bayesian; do
  timeout $LIMIT python3 benchmarks/tune_quality.py \
    --config examples/configs/$NAME.yaml --space examples/spaces/$NAME.yaml \
    --prepared .device_data/$PREPARED --searches runs/searches/$algorithm \
    --algorithms $algorithm --trials $TRIALS --objective val_accuracy \
    --workers $WORKERS \
    --out $results/tune_quality_jax_${gpu}_${NAME}_$algorithm.json \
    >> $results/$algorithm.log 2>&1 &
done
wait
for algorithm in random bayesian; do
  search=runs/searches/$algorithm/$algorithm
  for file in results.csv results.json objective.png best.yaml; do
    [ -f $search/$file ] && cp $search/$file $results/${algorithm}_$file
  done
  # The ends of the chief's and the workers' logs (tune_quality.py --workers).
  [ -d $search/logs ] && tail -n 15 $search/logs/*.log > $results/${algorithm}_workers.log
done
tail -n 3 $results/*.log
tar -cf $OUT/searches.tar -C $OUT searches && rm -r $results
