#!/usr/bin/env python3
"""Times python/atoll_evaluator.py (through examples/numpy_fitness.py) against the hand-written
protocol of examples/external_evaluator.py on the same fitness (-MSE of a 1-16-1 tanh network
against sin(pi x) on 32 points), as Atoll drives them: this script plays Atoll's side of the
external protocol over pipes, sends BATCHES batches of P genomes (P = 32, the population of an
island in configs/cartpole.yaml) and times each request-to-reply round trip.

    usage: scripts/bench_python_evaluator.py [--batches 2000] [--population 32] [--repeats 5]

Prints, per evaluator, the median over the repeats of (a) the median wall time per batch and
(b) the evaluator's CPU time per batch (its user + system time over the session, less that of a
session without batches: start-up and imports), which a busy machine disturbs less than wall
time; the two evaluators alternate. Then the overhead of atoll_evaluator in % by both measures,
and whether both return the same fitness values bit for bit.
"""

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = {"input": [1], "layers": [{"linear": 16}, "tanh", {"linear": 1}]}
TENSORS = [("0.weight", (16, 1), 0), ("0.bias", (16,), 16), ("2.weight", (1, 16), 32), ("2.bias", (1,), 48)]
N = 49


def header():
    def string(text):
        data = text.encode()
        return struct.pack("<I", len(data)) + data
    out = b"ATOLLEV1" + struct.pack("<II", 1, N) + string(json.dumps(SPEC, separators=(",", ":"))) + struct.pack("<I", len(TENSORS))
    for name, shape, offset in TENSORS:
        out += string(name) + struct.pack("<I", len(shape)) + struct.pack(f"<{len(shape)}I", *shape) + struct.pack("<I", offset)
    return out


def read(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise SystemExit("bench: the evaluator closed its stdout")
        data += chunk
    return data


def session(script, batches, population, genomes):
    """Median wall seconds per batch, the evaluator's CPU seconds (user + system) for the whole
    session, and the fitness of the first batch."""
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    process.stdin.write(header())
    process.stdin.flush()
    assert read(process.stdout, 12) == b"ATOLLEV1" + struct.pack("<I", 1)
    times, first = [], None
    for b in range(batches):
        request = struct.pack("<IIQ", population, b, 1) + genomes[b % len(genomes)].tobytes()
        start = time.perf_counter()
        process.stdin.write(request)
        process.stdin.flush()
        count = struct.unpack("<I", read(process.stdout, 4))[0]
        reply = read(process.stdout, 4 * count)
        times.append(time.perf_counter() - start)
        if first is None:
            first = reply
    process.stdin.close()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return (statistics.median(times[10:]) if len(times) > 10 else 0), usage.ru_utime + usage.ru_stime, first


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--population", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    genomes = [rng.normal(0, 0.5, size=(args.population, N)).astype("<f4") for _ in range(16)]
    scripts = ["examples/external_evaluator.py", "examples/numpy_fitness.py"]
    wall = {s: [] for s in scripts}
    cpu = {s: [] for s in scripts}
    replies = {}
    for _ in range(args.repeats):
        for script in scripts:
            _, startup, _ = session(script, 0, args.population, genomes)
            seconds, busy, reply = session(script, args.batches, args.population, genomes)
            wall[script].append(seconds)
            cpu[script].append((busy - startup) / args.batches)
            replies[script] = reply
    same = replies[scripts[0]] == replies[scripts[1]]
    for script in scripts:
        print(f"{script:34s} wall {statistics.median(wall[script]) * 1e6:7.1f} µs, CPU {statistics.median(cpu[script]) * 1e6:7.1f} µs "
              f"per batch of {args.population} (wall per repeat: {', '.join(f'{v * 1e6:.0f}' for v in wall[script])})")
    overhead = {name: (statistics.median(m[scripts[1]]) / statistics.median(m[scripts[0]]) - 1) * 100 for name, m in (("wall", wall), ("CPU", cpu))}
    print(f"atoll_evaluator overhead: {overhead['wall']:+.1f} % wall, {overhead['CPU']:+.1f} % CPU per batch; "
          f"same fitness values: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)

if __name__ == "__main__":
    main()
