# Sourced by the device scripts (from the repository root): the GPU's short
# name as $gpu and $ATTNPRED_DEVICE (e.g. h200), and each archive of
# .device_data (.tar.gz, .tar.xz) unpacked there once. XLA keeps cuDNN
# kernels out of CUDA graphs, so attention dropout runs inside cuDNN's flash
# kernel (README, "Attention dropout inside flash attention") instead of
# an explicit softmax and random mask. Until 0ea4d89 `attnpred train` and
# `pretrain` never took that path (their one-GPU keras.distribution kept it
# off): the flag alone left the IMDB pretraining step at 43-45 ms.
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 \
  | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/ .*//')
export ATTNPRED_DEVICE=$gpu
case "${XLA_FLAGS:-}" in
  *--xla_gpu_enable_command_buffer=*) ;;
  *) export XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL" ;;
esac
for archive in .device_data/*.tar.*; do
  [ -d "${archive%%.tar.*}" ] || tar -xf "$archive" -C .device_data
done
