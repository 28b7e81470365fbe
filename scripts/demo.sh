#!/usr/bin/env bash
# The README's main job: `atoll run configs/digits.yaml` on 2 ranks, then where the results are.
#   MPIRUN, NP and HOSTFILE from the environment override the launcher, rank count and hosts;
#   CONFIG another run config.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/env/openmpi.env
. deploy/env/openblas.env
MPIRUN=${MPIRUN:-mpirun}
NP=${NP:-2}
CONFIG=${CONFIG:-configs/digits.yaml}
hostfile_args=()
[ -n "${HOSTFILE:-}" ] && hostfile_args=(--hostfile "$HOSTFILE")
atoll=.build/release/atoll
out=runs/$(basename "$CONFIG" .yaml)

"$MPIRUN" "${hostfile_args[@]}" -np "$NP" "$atoll" info | head -n 6
echo
"$MPIRUN" "${hostfile_args[@]}" -np "$NP" "$atoll" run "$CONFIG" --out "$out" --force
echo
echo "Results in $out/:"
echo "  config.yaml       the resolved configuration"
echo "  metrics.jsonl     one line per island and generation (same bits on any rank count)"
echo "  meta.jsonl        one line per meta-learner training round (loss terms, retention, phase)"
echo "  timings.jsonl     where each rank's time went, per generation"
echo "  best.safetensors  the best network, PyTorch names and layout"
echo "  meta-learner.*    the trained meta-learner (safetensors + JSON state)"
echo "  summary.json      the table above"
echo "  report.html       curves, meta-learner rounds, time per rank, migration, config (open in a browser)"
echo "  checkpoints/      resume with: $MPIRUN -np $NP $atoll resume $out"
echo
echo "Report: $(realpath "$out/report.html")"
