#!/usr/bin/env bash
# Chaos test of checkpoints and resume: a run of CONFIG (a checkpoint every generation, GENERATIONS
# generations) is killed three times — a random rank, SIGKILL, at a random moment — and resumed each
# time on another rank count (1 to 4, drawn at random; more ranks than cores oversubscribed); a last
# resume runs it to its end. Its metrics.jsonl, meta.jsonl and best.safetensors must equal, byte for
# byte, those of the same run left alone, and every resume must start from the newest complete
# checkpoint without skipping one (a kill while a checkpoint is written leaves a partial folder that
# is not a checkpoint; the one before it must be intact).
#
# The draws (each delay's share of its window, the rank, the rank counts) come from SEED (bash's
# RANDOM), printed on every line, so a failure can be replayed: `scripts/kill-resume.sh ATOLL CONFIG
# SEED` (or `CHAOS_SEED=SEED scripts/test-mpi.sh`). A window is ¾ of the time the rest of the run
# should take (generations left × the uninterrupted run's time per generation) over the kills still
# to come, counted from the first checkpoint (before it there is nothing to resume) or from the
# resume's start; where in the run a delay lands still depends on the machine's load, so each line
# says which checkpoint the kill left newest. A kill that comes after the run has finished counts
# as not killed, and the line says so. Every mpirun is bounded by a timeout, so a hang fails
# instead of stalling.
#   usage: scripts/kill-resume.sh ATOLL CONFIG SEED [GENERATIONS]
# Prints one `ok    …` or `FAIL  …` line per check (scripts/test-mpi.sh counts them) and indented
# details; exits 1 if a check failed, keeping its run folders for a look.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then echo "usage: $0 ATOLL CONFIG SEED [GENERATIONS]" >&2; exit 2; fi
atoll=$1 config=$2 seed=$3 generations=${4:-30}
. deploy/env/openmpi.env
# After a rank dies, mpirun SIGTERMs the others and SIGKILLs them this many seconds later, and waits
# twice as long before it exits even with no rank left: deploy/env's 10 s (time to checkpoint on a
# SIGTERM) would add 20 s to every kill, so Open MPI's default 1 s unless KILL_RESUME_SIGKILL_TIMEOUT says.
export OMPI_MCA_odls_base_sigkill_timeout=${KILL_RESUME_SIGKILL_TIMEOUT:-1}
MPIRUN=${MPIRUN:-mpirun}
limit=${MPI_TEST_TIMEOUT:-120}
kills=3
max_ranks=4
name=$(basename "$atoll" | cut -c1-15)   # the ranks' process name, as pgrep sees it
tag="kill-resume $(basename "$config" .yaml) (seed $seed)"
RANDOM=$seed

work=$(mktemp -d)
failures=0
trap '[ "$failures" -eq 0 ] && rm -rf "$work"' EXIT
ok() { echo "ok    $tag: $*"; }
fail() { failures=$((failures + 1)); echo "FAIL  $tag: $*"; }
detail() { sed 's/^/      /'; }
ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }               # wall clock, milliseconds
seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }             # milliseconds as 1.234
draw() { drawn=$(((RANDOM * 32768 + RANDOM) % ($1 + 1))); }  # drawn = 0…N from the seed (not in $(…): a subshell reseeds)
newest() { ls "$1/checkpoints" 2>/dev/null | grep -E '^[0-9]{8}$' | sort | tail -1 | sed 's/^0*//;s/^$/0/'; }
other_ranks() { local previous=$np; while draw $((max_ranks - 1)); np=$((1 + drawn)); [ "$np" -eq "$previous" ]; do :; done; }

# The config, with a checkpoint every generation and GENERATIONS generations.
grep -vE '^(stop|output):' "$config" > "$work/config.yaml"
printf 'stop: {generations: %d}\noutput: {checkpoint_every: 1}\n' "$generations" >> "$work/config.yaml"

launch() {  # launch LOG NP ARGS...: mpirun in the background, bounded; sets pid (timeout's) and started
  local log=$1 np=$2; shift 2
  started=$(ms)
  timeout --kill-after=10 "$limit" "$MPIRUN" --oversubscribe -np "$np" "$atoll" "$@" > "$log" 2>&1 &
  pid=$!
}
finish() {  # waits for the launched mpirun; sets rc and took (ms); a run that reaches the limit hung
  wait "$pid"; rc=$?
  took=$(($(ms) - started))
  [ "$took" -lt $((limit * 1000)) ]
}
ranks() {  # the rank processes of the launched mpirun (timeout's child), one PID a line
  local mpirun
  for mpirun in $(pgrep -P "$pid"); do pgrep -P "$mpirun" -x "$name"; done
}
wait_for() {  # wait_for COMMAND...: polls every 20 ms until it succeeds or the launched mpirun ends
  until "$@"; do kill -0 "$pid" 2>/dev/null || return 1; sleep 0.02; done
}
has_checkpoint() { [ -n "$(newest "$1")" ]; }
writing="The run in .* stopped at generation [0-9]+ .* before writing its results"  # resume after a kill past the last checkpoint

# The uninterrupted run, on 2 ranks; it times the generations from its first checkpoint to its last.
launch "$work/reference.log" 2 run "$work/config.yaml" --out "$work/reference"
wait_for has_checkpoint "$work/reference"; first=$(ms); first_generation=$(newest "$work/reference")
wait_for test -d "$work/reference/checkpoints/$(printf %08d "$generations")"; last=$(ms)
if ! finish || [ "$rc" -ne 0 ] || [ ! -s "$work/reference/best.safetensors" ]; then
  fail "the uninterrupted run failed (exit $rc after $(seconds "$took") s)"; detail < "$work/reference.log"; exit 1
fi
per_generation=$(((last - first) / (generations - first_generation) + 1))
ok "uninterrupted run on 2 ranks: $generations generations in $(seconds "$took") s (~$per_generation ms a generation)"

# Three legs, each killed; then the last resume.
run_dir=$work/killed
draw $((max_ranks - 1)); np=$((1 + drawn))
counts=$np
landed=0
finished=no
ended=""  # the log of a resume that found the run finished
for leg in $(seq 1 $kills); do
  from=$(newest "$run_dir")
  if [ "$leg" -eq 1 ]; then
    launch "$work/leg$leg.log" "$np" run "$work/config.yaml" --out "$run_dir"
    what="run on $np rank(s)"
    wait_for has_checkpoint "$run_dir"; anchor="the first checkpoint"
  else
    launch "$work/leg$leg.log" "$np" resume "$run_dir"
    what="resume from generation $from on $np rank(s)"
    wait_for grep -qsE "^(Resuming |$writing)" "$work/leg$leg.log"; anchor="its start"
  fi
  touch "$work/leg$leg.start"
  at=$(newest "$run_dir"); at=${at:-0}
  window=$(((generations - at) * per_generation * 3 / (4 * (kills - leg + 1))))  # ¾: resumes often outrun the estimate
  draw 1000; share=$drawn; delay=$((window * share / 1000))  # the draws never depend on timings
  sleep "$(seconds "$delay")"
  draw 32767; pick=$drawn
  mapfile -t pids < <(ranks)
  victim="" rank=""
  if [ ${#pids[@]} -gt 0 ]; then
    victim=${pids[$((pick % ${#pids[@]}))]}
    rank=$(tr '\0' '\n' < "/proc/$victim/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
    kill -9 "$victim" 2>/dev/null || victim=""
  fi
  killed=$(ms)
  if ! finish; then
    fail "leg $leg ($what): mpirun still running after ${limit} s (a hang)"; detail < "$work/leg$leg.log"; break
  fi
  for p in "${pids[@]}"; do  # a rank mpirun left behind would hold the run's lock: say so, end it
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then echo "leg $leg: rank process $p outlived mpirun (exit $rc) by 5 s; killing it" | detail; kill -9 "$p"; fi
  done
  resumed=$(grep -m1 '^Resuming ' "$work/leg$leg.log")
  if [ -n "$resumed" ] && ! grep -q " from generation $from on $np rank(s)" <<<"$resumed"; then
    fail "leg $leg ($what) did not resume from generation $from, the newest complete checkpoint"; detail < "$work/leg$leg.log"
  fi
  if grep -q "nothing to resume" "$work/leg$leg.log"; then
    ok "leg $leg ($what): nothing to resume, the checkpoint of generation $from records the run's end"
    ended=$work/leg$leg.log; finished=yes; break
  fi
  grep -qE "^$writing" "$work/leg$leg.log" && what="$what, the run's end without its results: writing them"
  if grep -q "skipping checkpoint" "$work/leg$leg.log"; then
    fail "leg $leg ($what) skipped a checkpoint: a kill left a complete checkpoint damaged"; detail < "$work/leg$leg.log"
  fi
  now=$(newest "$run_dir")
  partial=$(find "$run_dir/checkpoints" -maxdepth 1 -name '.partial-*' -newer "$work/leg$leg.start" -printf '%f ' 2>/dev/null)
  if [ -n "$victim" ] && [ "$rc" -ne 0 ]; then
    landed=$((landed + 1))
    ok "leg $leg ($what): rank ${rank:-?} (pid $victim) killed $(seconds "$delay") s ($share‰ of the window) after $anchor; mpirun exited $rc $(seconds $((started + took - killed))) s later;" \
       "newest checkpoint: generation $now${partial:+, a checkpoint being written left ${partial% }}"
  elif [ "$rc" -eq 0 ]; then
    ok "leg $leg ($what): not killed, the run finished first ($(seconds "$delay") s after $anchor)"
    finished=yes; break
  else
    fail "leg $leg ($what): exit $rc without a kill"; detail < "$work/leg$leg.log"; break
  fi
  other_ranks; counts="$counts → $np"
done

if [ "$finished" = no ] && [ "$failures" -eq 0 ]; then
  from=$(newest "$run_dir")
  launch "$work/last.log" "$np" resume "$run_dir"
  if ! finish; then
    fail "last resume from generation $from on $np rank(s): mpirun still running after ${limit} s (a hang)"; detail < "$work/last.log"
  elif grep -q "nothing to resume" "$work/last.log"; then
    ended=$work/last.log
    ok "last resume: nothing to resume, the checkpoint of generation $from records the run's end"
  elif [ "$rc" -eq 0 ] && grep -qE "^$writing" "$work/last.log"; then
    ok "last resume on $np rank(s): the checkpoint of generation $from records the run's end, its results were missing and are written"
  elif [ "$rc" -ne 0 ] || grep -q "skipping checkpoint" "$work/last.log"; then
    fail "last resume from generation $from on $np rank(s) failed (exit $rc)"; detail < "$work/last.log"
  else
    ok "last resume from generation $from on $np rank(s) ran to the end in $(seconds "$took") s"
  fi
fi

# The end: the results, and what they must equal.
if [ "$failures" -eq 0 ]; then
  if [ ! -s "$run_dir/best.safetensors" ] || [ ! -s "$run_dir/summary.json" ]; then
    fail "the run has no best.safetensors or summary.json after the last resume (rank counts $counts)"
    if [ -n "$ended" ]; then
      echo "the last kill came after the final checkpoint (generation $(newest "$run_dir"), which records the stop) and before the results were written;" \
        "resume then says the run finished and writes no best.safetensors or summary.json" | detail
    fi
    ls -la "$run_dir" | detail
  else
    differ=""
    for f in metrics.jsonl meta.jsonl best.safetensors meta-learner.safetensors; do
      [ -e "$work/reference/$f" ] || continue
      cmp -s "$work/reference/$f" "$run_dir/$f" || differ="$differ $f"
    done
    for key in generations evaluations bestFitness testAccuracy; do
      [ "$(grep "\"$key\"" "$work/reference/summary.json")" = "$(grep "\"$key\"" "$run_dir/summary.json")" ] || differ="$differ summary.json:$key"
    done
    meta_learner=""; [ -e "$work/reference/meta-learner.safetensors" ] && meta_learner=yes
    if [ -z "$differ" ]; then
      ok "$landed kill(s) landed, rank counts $counts: metrics.jsonl, meta.jsonl, best.safetensors${meta_learner:+, meta-learner.safetensors} and the summary's figures equal the uninterrupted run's"
    else
      fail "after $landed kill(s), rank counts $counts, these differ from the uninterrupted run:$differ"
      { cmp "$work/reference/metrics.jsonl" "$run_dir/metrics.jsonl"; diff "$work/reference/metrics.jsonl" "$run_dir/metrics.jsonl" | head -6; } 2>&1 | detail
    fi
  fi
fi
if [ "$failures" -gt 0 ]; then echo "run folders and logs kept in $work" | detail; exit 1; fi
