#!/usr/bin/env bash
# The README's main job. Until the island model lands (`atoll run configs/digits.yaml`), it shows
# the MPI world Atoll runs in and measures its collectives on 2 ranks.
#   MPIRUN, NP and HOSTFILE from the environment override the launcher, rank count and hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/env/openmpi.env
. deploy/env/openblas.env
MPIRUN=${MPIRUN:-mpirun}
NP=${NP:-2}
hostfile_args=()
[ -n "${HOSTFILE:-}" ] && hostfile_args=(--hostfile "$HOSTFILE")
atoll=.build/release/atoll

echo "== atoll info on $NP ranks"
"$MPIRUN" "${hostfile_args[@]}" -np "$NP" "$atoll" info
echo
echo "== atoll bench collectives on $NP ranks"
"$MPIRUN" "${hostfile_args[@]}" -np "$NP" "$atoll" bench collectives
