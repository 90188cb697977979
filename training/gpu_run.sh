#!/usr/bin/env bash
# One GPU session, end to end (docs/TRAINING.md, "Training on a GPU"): tokenize the shipped corpus, train the
# teacher, then distil the PTP adapters, writing fp16 checkpoint parts (<= 15 MB) to $OUT as
# it goes so that whatever finishes comes back.
#
#   carry data/gpu (train.jsonl.xz, val.jsonl.xz, tokenizer.json); run from the repo root:
#   TEACHER_S=320 PTP_S=140 bash training/gpu_run.sh
#
# Adapters only, continuing from the committed checkpoint (its teacher stays frozen), as the
# seventh session ran it (2,084 steps in 460 s on an H100; log in training/runs/):
#   STAGES=ptp PTP_INIT=training/checkpoints/ptp.fp16.part0 PTP_S=460 PTP_ARGS="--sample-reuse 2 --save-every 110" bash training/gpu_run.sh
# The ptp stage first validates its starting weights and writes parts only when it beats them;
# contexts end at a cursor as the engine's prompts do (train.py --contexts engine), where the
# committed adapters score about 2.18 correct per window. PTP_ARGS="--lora-rank 64 ..." widens the
# adapters first (outputs unchanged), the capacity the next run should try.
#
# What travels to the device is the tracked tree plus carried paths, at most 64 MiB; with models/
# the tracked tree is about 71 MB. Nothing here needs models/, test/fixtures, bench/data or
# bench/results: move them out of the checkout for the call and back afterwards.
#
# A dry run of the whole script on a CPU before spending device time:
#   PYTHON=/usr/bin/python3 CORPUS=<a few documents> OUT=/tmp/dry DEVICE=cpu TEACHER_S=20 PTP_S=20 TEACHER_BS=4 PTP_BS=4 SAMPLE_BATCH=8 WORKERS=1 bash training/gpu_run.sh
set -euo pipefail
OUT=${OUT:-out}; mkdir -p "$OUT"
TEACHER_S=${TEACHER_S:-320}; PTP_S=${PTP_S:-140}
PY=${PYTHON:-python3}; DEVICE=${DEVICE:-cuda}; TEACHER_BS=${TEACHER_BS:-64}; PTP_BS=${PTP_BS:-128}; WORKERS=${WORKERS:-6}
CORPUS=${CORPUS:-data/gpu}; TOK=$CORPUS/tokenizer.json
STAGES=${STAGES:-teacher ptp}; SAMPLE_BATCH=${SAMPLE_BATCH:-1024}
exec > >(tee -a "$OUT/train.log") 2>&1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
"$PY" -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"
TMP=$(mktemp -d)
# Python's tokenizers on the GPU machine; the npm binding (identical ids) where it is missing
if "$PY" -c "import tokenizers" 2>/dev/null; then TOKENIZE="$PY training/tokenize_corpus.py"; else TOKENIZE="node training/tokenize_corpus.mjs"; fi
$TOKENIZE --corpus "$CORPUS" --tokenizer "$TOK" --out "$TMP/tokens"
cp "$TMP/tokens/summary.json" "$OUT/tokens-summary.json"
PTP_INIT=${PTP_INIT:-$TMP/ckpt/teacher.pt}
[[ " $STAGES " == *" teacher "* ]] && "$PY" training/train.py teacher --data "$TMP/tokens" --tokenizer "$TOK" --out "$TMP/ckpt"/teacher.pt \
  --device "$DEVICE" --time-limit "$TEACHER_S" --batch-size "$TEACHER_BS" --seq-len 512 --lr 2e-3 --warmup 200 \
  --workers "$WORKERS" --log-every 50 --save-every 100 --export-parts "$OUT" ${TEACHER_ARGS:-}
[[ " $STAGES " == *" ptp "* ]] && "$PY" training/train.py ptp --data "$TMP/tokens" --tokenizer "$TOK" --init "$PTP_INIT" --out "$TMP/ckpt"/ptp.pt \
  --device "$DEVICE" --time-limit "$PTP_S" --batch-size "$PTP_BS" --seq-len 512 --lr 2e-3 --warmup 30 \
  --window 24 --windows 20 --gen-len 48 --sample-batch "$SAMPLE_BATCH" --temperature 0.2 --top-k 50 --top-p 0.95 \
  --log-every 20 --save-every 60 --export-parts "$OUT" ${PTP_ARGS:-}
ls -la "$OUT"
