#!/usr/bin/env bash
# One GPU session, end to end (../shared/docs/GPU.md): tokenize the shipped corpus, train the
# teacher, then distil the PTP adapters, writing fp16 checkpoint parts (<= 15 MB) to $OUT as
# it goes so that whatever finishes comes back.
#
#   carry data/gpu (train.jsonl.xz, val.jsonl.xz, tokenizer.json); run from the repo root:
#   TEACHER_S=320 PTP_S=140 bash training/gpu_run.sh
set -euo pipefail
OUT=${OUT:-out}; mkdir -p "$OUT"
TEACHER_S=${TEACHER_S:-320}; PTP_S=${PTP_S:-140}
TOK=data/gpu/tokenizer.json
exec > >(tee -a "$OUT/train.log") 2>&1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"
python3 training/tokenize_corpus.py --corpus data/gpu --tokenizer "$TOK" --out /tmp/tokens
cp /tmp/tokens/summary.json "$OUT/tokens-summary.json"
mkdir -p /tmp/ckpt
python3 training/train.py teacher --data /tmp/tokens --tokenizer "$TOK" --out /tmp/ckpt/teacher.pt \
  --device cuda --time-limit "$TEACHER_S" --batch-size 64 --seq-len 512 --lr 2e-3 --warmup 200 \
  --workers 6 --log-every 50 --save-every 100 --export-parts "$OUT" ${TEACHER_ARGS:-}
python3 training/train.py ptp --data /tmp/tokens --tokenizer "$TOK" --init /tmp/ckpt/teacher.pt --out /tmp/ckpt/ptp.pt \
  --device cuda --time-limit "$PTP_S" --batch-size 128 --seq-len 512 --lr 1e-3 --warmup 50 \
  --window 32 --windows 16 --gen-len 48 --temperature 0.2 --top-k 50 --top-p 0.95 \
  --log-every 20 --save-every 60 --export-parts "$OUT" ${PTP_ARGS:-}
ls -la "$OUT"
