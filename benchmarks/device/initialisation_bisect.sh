#!/usr/bin/env bash
# A record: this ran with the drivers of its time (commit e61f0e8 and the
# bisected commits), `benchmarks/translation_quality.py train --ids
# X.npz` on the .npz of that driver's `prepare`. Since f47217f the driver
# runs `attnpred train --prepared` and has neither step, so the script
# stops with a message when the checkout's driver is the new one. Bisecting
# old commits needs their own drivers anyway: run it from a checkout of
# e61f0e8 (`git worktree add ../bisect-top e61f0e8`), which holds this
# script as it ran.
# Why did the English->Spanish Transformer learn slower on 2026-12-01?
# Six epochs of benchmarks/translation_quality.py on the same ids, four
# versions side by side on one GPU (about 6.5 min on an H200).
#   bash benchmarks/device/initialisation_bisect.sh commits
#       b7acf7b (the 2026-11-25 run), 1909c28 (before cuDNN dropout),
#       83b8a88 (flat kernels, before the independent seeds), f667c8b
#       (independent seeds for every sublayer); each unpacked with
#       `git archive` into bisect/<commit>/ beforehand, here:
#       for c in b7acf7b 1909c28 83b8a88 f667c8b; do mkdir -p bisect/$c;
#         git archive $c keras_attnpred benchmarks | tar -x -C bisect/$c; done
#   bash benchmarks/device/initialisation_bisect.sh tied
#       this version with tied (the default) and untied query/key kernels.
set -u
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export XLA_FLAGS=--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL
top=$PWD
if ! grep -q -- '"--ids"' benchmarks/translation_quality.py; then
  echo "initialisation_bisect.sh drives translation_quality.py train --ids" \
    "of before f47217f; this checkout's driver runs attnpred instead." \
    "Run it from a checkout of e61f0e8." >&2
  exit 2
fi
train() {  # name, code root, extra arguments
  (cd $2 && PYTHONPATH=/tmp/site:$2 XLA_PYTHON_CLIENT_MEM_FRACTION=.22 \
    timeout 540 python3 benchmarks/translation_quality.py train \
    --ids $top/.device_data/spa-eng.npz --beam-width 1 --models transformer \
    --epochs 6 --patience 6 --out $OUT/spa_$1.json "${@:3}" \
    > $OUT/spa_$1.log 2>&1) &
}
case "$1" in
commits)
  for c in b7acf7b 1909c28 83b8a88 f667c8b; do train $c $top/bisect/$c; done ;;
tied)
  train tied $top
  train untied $top --untied-query-key-init ;;
*) echo "usage: $0 commits|tied" >&2; exit 2 ;;
esac
wait
for log in $OUT/spa_*.log; do
  echo $log; grep -E "^[0-9]+/[0-9]+ - " $log | tail -n 1
done
