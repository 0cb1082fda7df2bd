#!/usr/bin/env bash
# The RL sweep behind the demo's train settings (README, "Choosing the RL settings").
# Training split only: each arm starts from the same SFT checkpoint and is judged on a seeded
# sample of 120 *training* problems (eval.on=train) and on the rollout pass rate; the test and
# held-out problems are never evaluated here. Run from the repository root:
#   bash examples/synthetic-python/scripts/rl-sweep.sh            # SFT once, then arms A, B, C
set -euo pipefail
out=${OUT:-runs/rl-sweep}
config=examples/synthetic-python/config.yaml
if [ ! -d "$out/sft/sft" ]; then
  pnpm -s stepcoder sft -c "$config" --set outDir="$out/sft"
fi
arm() {
  local name=$1 steps=$2
  shift 2
  pnpm -s stepcoder run -c "$config" \
    --set outDir="$out/$name" --set model.checkpoint="$out/sft/sft" --set sft.epochs=0 \
    --set eval.on=train --set eval.trainSample=120 --set eval.n=4 --set 'eval.k=[1]' \
    --set train.steps="$steps" "$@"
}
# A: 8 prompts x 8, lr 1e-4, std-scaled GRPO
arm A 12 --set train.batchSize=8 --set train.samplesPerPrompt=8 --set train.lr=0.0001 \
  --set 'train.ppo={"epochs":2,"minibatchSize":16,"lossAggregation":"sequence-mean"}' \
  --set 'advantage={"name":"grpo","options":{"scaleByStd":true}}' \
  --set 'train.dynamicSampling={"filter":"contrast","maxRounds":1}'
# B: as A with lr 3e-5 and Dr. GRPO (no std scaling), 20 iterations
arm B 20 --set train.batchSize=8 --set train.samplesPerPrompt=8 --set train.lr=0.00003 \
  --set 'train.ppo={"epochs":2,"minibatchSize":16,"lossAggregation":"sequence-mean"}' \
  --set 'train.dynamicSampling={"filter":"contrast","maxRounds":1}'
# C (the demo's settings): 16 prompts x 8, lr 5e-5, 2 epochs x 4 minibatches, Dr. GRPO
arm C 16
