#!/usr/bin/env bash
# Runs Atoll under a real one-node Slurm cluster started by this script: Debian's slurm-wlm and
# munge (installed with apt-get if missing), a generated slurm.conf naming this host, and munged,
# slurmctld and slurmd started as root in a temporary directory (own ports and socket, so a site's
# Slurm is not touched) and stopped again on exit.
#   1. deploy/slurm/run.sbatch with the repository's own binary, 2 ranks under `srun --mpi=pmix`,
#      a one-minute time limit and no warning signal (the job meets the limit: Slurm sends SIGTERM
#      to each rank twice, directly and through srun): the run must stop with the checkpoint of
#      the generation it was in (the last line of metrics.jsonl), exit 143.
#   2. deploy/slurm/run.sbatch with its own `#SBATCH --signal=USR1@...` warning under a
#      one-minute limit, beside the first: the run stops on SIGUSR1 with its checkpoint.
#   3. deploy/slurm/resume.sbatch continues each for a few generations; metrics.jsonl and
#      best.safetensors must equal an uninterrupted run's of that length, byte for byte.
# Needs root (daemons, apt-get). Takes about 4 minutes.
#   usage: scripts/test-slurm.sh [path/to/atoll]
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
atoll=$(readlink -f "${1:-.build/debug/atoll}")
[ -x "$atoll" ] || { echo "slurm: no atoll binary at ${1:-.build/debug/atoll}" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "slurm: needs root (starts slurmctld, slurmd and munged)" >&2; exit 1; }
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm: installing slurm-wlm and munge (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null; } \
    || { echo "slurm: cannot install slurm-wlm and munge" >&2; exit 1; }
fi

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok    $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1"; shift; for f in "$@"; do [ -e "$f" ] && tail -15 "$f" | sed 's/^/      /'; done; }

tmp=$(mktemp -d /tmp/atoll-slurm.XXXXXX)
chmod 755 "$tmp"
daemons=()
cleanup() {
  for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 1
  for pid in "${daemons[@]}"; do kill -9 "$pid" 2>/dev/null; done
  [ -n "${KEEP_SLURM_TMP:-}" ] && { echo "slurm: kept $tmp"; return; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP

# munge: a fresh key and socket of our own.
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/runs"
chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --force --socket="$tmp/munge/socket" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
  --log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/seed" \
  || { echo "slurm: munged did not start"; cat "$tmp/munge/munged.log"; exit 1; }
daemons+=("$(cat "$tmp/munge/munged.pid")")

host=$(hostname -s)
# Two CPUs' worth of slots per job, two jobs at once: the node announces 4 (config_overrides lets
# it announce more than it has, as oversubscription does under mpirun).
cat > "$tmp/slurm.conf" <<CONF
ClusterName=atolltest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${SLURM_TEST_PORT:-16817}
SlurmdPort=$(( ${SLURM_TEST_PORT:-16817} + 1 ))
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
KillWait=30
NodeName=$host CPUs=4 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -f "$SLURM_CONF" -i || { echo "slurm: slurmctld did not start"; cat "$tmp/slurmctld.log"; exit 1; }
sleep 1
daemons+=("$(cat "$tmp/slurmctld.pid")")
slurmd -f "$SLURM_CONF" || { echo "slurm: slurmd did not start"; cat "$tmp/slurmd.log"; exit 1; }
sleep 1
daemons+=("$(cat "$tmp/slurmd.pid")")
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break; sleep 1; done
if sinfo -h -o %T | grep -qE '^idle'; then
  ok "a one-node Slurm cluster ($(sinfo -V)) is up on $host"
else
  fail "the Slurm node did not come up: $(sinfo -h -o '%T %E' 2>&1)" "$tmp/slurmd.log" "$tmp/slurmctld.log"; exit 1
fi
if srun --mpi=list 2>&1 | grep -qw pmix; then
  ok "srun --mpi=list offers pmix"
else
  fail "srun --mpi=list has no pmix: $(srun --mpi=list 2>&1 | tr '\n' ' ')"; exit 1
fi

# A run long enough to meet the time limit: 2 islands of 240 (one per rank), checkpoints every 1000.
cat > "$tmp/long.yaml" <<'YAML'
seed: 11
task: {name: digits}
network: mlp:64-24-10
islands: {count: 2, population: 240}
migration: {interval: 3, count: 2}
evolution: {mutation_sigma: 0.05, mutation_rate: 0.1, elites: 2}
stop: {generations: 1000000}
output: {checkpoint_every: 1000}
YAML

wait_job() {  # wait_job ID SECONDS: until the job has left the queue
  for _ in $(seq "$2"); do [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0; sleep 1; done
  scancel "$1"; return 1
}
submit() {  # submit NAME SBATCH_ARGS...: prints the job id
  sbatch --parsable --chdir="$repo" --output="$tmp/$1.out" --nodes=1 --ntasks=2 --ntasks-per-node=2 --mem-per-cpu=100M \
    --partition=test --export=ALL,ATOLL="$atoll" "${@:2}"
}
t0=$SECONDS
# 1: the time limit itself. The command line's --signal overrides the script's warning with
# SIGCONT (harmless), so the job meets the limit and Slurm's SIGTERMs.
limit_job=$(submit limit --time=1 --signal=CONT@1 deploy/slurm/run.sbatch "$tmp/long.yaml" --out "$tmp/runs/limit")
# 2: the script's own warning signal (USR1, before the limit).
warn_job=$(submit warn --time=1 deploy/slurm/run.sbatch "$tmp/long.yaml" --out "$tmp/runs/warn")
wait_job "$limit_job" 240 || fail "job $limit_job did not end within 4 minutes" "$tmp/limit.out"
wait_job "$warn_job" 60 || fail "job $warn_job did not end" "$tmp/warn.out"
echo "      the two one-minute jobs ended after $((SECONDS - t0)) s"

stopped() {  # stopped NAME SIGNAL: the job's run stopped by SIGNAL with the checkpoint of its last generation
  local name=$1 signame=$2 dir=$tmp/runs/$1 gen last
  gen=$(grep -o "Stopped by $signame after generation [0-9]*" "$tmp/$name.out" | grep -o '[0-9]*$')
  last=$(tail -1 "$dir/metrics.jsonl" 2>/dev/null | grep -o '"generation":[0-9]*' | grep -o '[0-9]*$')
  if [ -n "$gen" ] && [ "$gen" = "$last" ] && [ -f "$dir/checkpoints/$(printf '%08d' "$gen")/run.json" ] \
     && [ "$(ls "$dir/checkpoints" | tail -1)" = "$(printf '%08d' "$gen")" ] && grep -q "atoll resume $dir" "$tmp/$name.out"; then
    ok "$name: stopped by $signame after generation $gen, its checkpoint written, no generation lost"
    eval "${name}_gen=$gen"
  else
    fail "$name: no stop by $signame with the checkpoint of the last generation (said ${gen:-nothing}, metrics end at ${last:-nothing})" "$tmp/$name.out"
  fi
}
stopped limit SIGTERM
stopped warn SIGUSR1

# 3: resume each for 3 more generations; compare with an uninterrupted run of that length.
. deploy/env/openmpi.env
. deploy/env/openblas.env
for name in limit warn; do
  gen_var=${name}_gen
  gen=${!gen_var:-}
  [ -n "$gen" ] || continue
  until=$((gen + 3))
  job=$(submit "$name-resume" --time=5 deploy/slurm/resume.sbatch "$tmp/runs/$name" --generations "$until")
  wait_job "$job" 280 || fail "resume job $job did not end" "$tmp/$name-resume.out"
  sed "s/generations: 1000000/generations: $until/" "$tmp/long.yaml" > "$tmp/until$until.yaml"
  if ! timeout 600 "$atoll" run "$tmp/until$until.yaml" --out "$tmp/runs/$name-reference" >"$tmp/$name-reference.out" 2>&1; then
    fail "the uninterrupted run of $until generations failed" "$tmp/$name-reference.out"; continue
  fi
  if [ -s "$tmp/runs/$name/best.safetensors" ] && cmp -s "$tmp/runs/$name/metrics.jsonl" "$tmp/runs/$name-reference/metrics.jsonl" \
     && cmp -s "$tmp/runs/$name/best.safetensors" "$tmp/runs/$name-reference/best.safetensors"; then
    ok "$name: resume.sbatch continues to generation $until; metrics.jsonl and best.safetensors equal the uninterrupted run's"
  else
    fail "$name: the resumed run differs from the uninterrupted one (or did not finish)" "$tmp/$name-resume.out"
  fi
done
echo "slurm: $passed passed, $failed failed ($((SECONDS)) s)"
[ "$failed" -eq 0 ]
