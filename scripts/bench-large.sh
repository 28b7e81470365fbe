#!/usr/bin/env bash
# Large networks in small memory: configs/fashion-large.yaml (EGGROLL, the population kept as
# low-rank codes and decoded in tiles) against the same config in weight space (the GA and SNES
# keep 4 × 64 full genomes of 1.86 M weights), each for GENERATIONS generations on 2 ranks, one
# arm after the other. Prints, per arm: seconds per generation (mean over generations ≥ 1 of the
# slower rank's `total` in timings.jsonl), peak RSS per rank (summary.json), test accuracy, and the
# ratios to the GA arm; writes the table as JSON to bench/fashion-large.json (or $JSON).
#
#   scripts/bench-large.sh [GENERATIONS]      (default 10; needs a release build)
#   NETWORK=mlp:784-16-10 scripts/bench-large.sh 2    (a quick check of the script itself)
set -euo pipefail
cd "$(dirname "$0")/.."
generations=${1:-10}
atoll=${ATOLL:-.build/release/atoll}
network=${NETWORK:-}
json=${JSON:-bench/fashion-large.json}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x "$atoll" ] || { echo "bench-large: no $atoll (swift build -c release first)" >&2; exit 1; }
set -a; . deploy/env/openmpi.env; . deploy/env/openblas.env; set +a

arms=(
  "eggroll|evolution: {algorithm: eggroll, sigma0: 0.02, rank: 4, tile: 16}"
  "ga|evolution: {algorithm: ga, mutation_sigma: 0.02, mutation_rate: 0.02, elites: 2}"
  "snes|evolution: {algorithm: snes, sigma0: 0.02}"
)
for arm in "${arms[@]}"; do
  name=${arm%%|*}
  sed -e "s/^evolution: .*/${arm#*|}/" -e "s/^stop: .*/stop: {generations: $generations}/" configs/fashion-large.yaml > "$work/$name.yaml"
  [ -n "$network" ] && sed -i "s/^network: .*/network: $network/" "$work/$name.yaml"
  echo "bench-large: $name, $generations generations ..." >&2
  mpirun -np 2 "$atoll" run "$work/$name.yaml" --out "$work/$name" > "$work/$name.log" 2>&1 \
    || { cat "$work/$name.log" >&2; echo "bench-large: the $name arm failed" >&2; exit 1; }
done

mkdir -p "$(dirname "$json")"
python3 - "$work" "$json" "$generations" "${network:-mlp:784-1024-1024-10}" <<'PY'
import json, sys
work, out, generations, network = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = []
for name in ["eggroll", "ga", "snes"]:
    summary = json.load(open(f"{work}/{name}/summary.json"))
    per_generation = {}
    for line in open(f"{work}/{name}/timings.jsonl"):
        t = json.loads(line)
        if t["generation"] >= 1:
            per_generation[t["generation"]] = max(per_generation.get(t["generation"], 0), t["total"])
    rows.append({"arm": name, "seconds_per_generation": sum(per_generation.values()) / len(per_generation),
                 "peak_rss_mib": max(summary["peakMemoryMiB"]), "test_accuracy": summary["testAccuracy"],
                 "evaluations": summary["evaluations"]})
ga = rows[1]
print(f"Fashion-MNIST {network}, 4 islands x 64, minibatch 256, {generations} generations, 2 ranks")
print(f"{'arm':10} {'s/generation':>12} {'x GA':>6} {'peak RSS MiB/rank':>18} {'x GA':>6} {'test acc':>9}")
for r in rows:
    r["time_vs_ga"] = r["seconds_per_generation"] / ga["seconds_per_generation"]
    r["rss_vs_ga"] = r["peak_rss_mib"] / ga["peak_rss_mib"]
    print(f"{r['arm']:10} {r['seconds_per_generation']:12.3f} {r['time_vs_ga']:6.2f} {r['peak_rss_mib']:18.0f} {r['rss_vs_ga']:6.2f} {r['test_accuracy']:9.4f}")
json.dump({"network": network, "generations": generations, "ranks": 2, "arms": rows}, open(out, "w"), indent=2)
print(f"wrote {out}")
PY
