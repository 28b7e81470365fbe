#!/usr/bin/env python3
"""Tests of python/atoll_run.py against real runs of the atoll binary (numpy only; unittest).

Usage: python3 python/test_atoll_run.py [ATOLL]      (default $ATOLL, else .build/debug/atoll)

Makes small runs (configs/tiny*.yaml and variants, a few seconds in a debug build) into temporary
folders, reads them with ``Run`` and checks the values against the files and against atoll itself:
the best network re-scored by ``atoll evaluate`` gives the summary's best fitness, a numpy forward
pass of ``best()`` classifies as many digits as atoll's train and test accuracies say, ``atoll
export`` of the flattened arrays gives the same names, shapes and bits, and a run killed with
SIGKILL (and one cut in the middle of a line) reads as ``atoll report`` reads it. Tests that need
pandas or torch are skipped when they are not importable. `make test` runs this file.
"""
import gzip
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from atoll_run import Run, parse_yaml, read_jsonl, read_safetensors  # noqa: E402

ATOLL = os.path.abspath(os.environ.get("ATOLL", os.path.join(ROOT, ".build", "debug", "atoll")))


def atoll(*args, **kwargs):
    """Runs atoll from the repository root; returns its stdout (raises on a non-zero exit)."""
    result = subprocess.run([ATOLL, *args], cwd=ROOT, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"atoll {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result.stdout


def has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def file_lines(path):
    """The complete lines of a file, parsed, independently of atoll_run."""
    with open(path, "rb") as f:
        data = f.read()
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].split(b"\n") if line.strip()]


class Runs:
    """Runs made once for all tests, in one temporary folder."""

    work = None
    made = {}

    @classmethod
    def get(cls, name, config_text=None, config=None, ranks=None):
        if name not in cls.made:
            if cls.work is None:
                cls.work = tempfile.mkdtemp(prefix="atoll-run-py-")
            if config_text is not None:
                config = os.path.join(cls.work, name + ".yaml")
                with open(config, "w") as f:
                    f.write(config_text)
            out = os.path.join(cls.work, name)
            args = ["run", config, "--out", out, "--force"]
            if ranks:
                args += ["--local-ranks", str(ranks)]
            atoll(*args)
            cls.made[name] = out
        return cls.made[name]


MINIBATCH = """seed: 3
task: {name: digits, options: {batch: 64, eval_every: 2}}
network: mlp:64-8-10
islands: {count: 2, population: 8}
evolution: {algorithm: snes, sigma0: 0.1}
stop: {generations: 5}
"""

LONG = """seed: 3
task: {name: digits}
network: mlp:64-8-10
islands: {count: 4, population: 8}
migration: {interval: 2, count: 1}
stop: {generations: 100000}
output: {checkpoint_every: 0}
"""


class FinishedRun(unittest.TestCase):
    def setUp(self):
        self.dir = Runs.get("tiny", config="configs/tiny.yaml")
        self.run = Run(self.dir, frames=False)

    def test_metrics_and_timings_are_the_file_lines(self):
        lines = file_lines(os.path.join(self.dir, "metrics.jsonl"))
        self.assertEqual(self.run.metrics, lines)
        # configs/tiny.yaml: 4 islands, generations 0 ... 6, one rank.
        self.assertEqual(len(self.run.metrics), 4 * 7)
        self.assertEqual(sorted({m["island"] for m in self.run.metrics}), [0, 1, 2, 3])
        self.assertEqual(self.run.timings, file_lines(os.path.join(self.dir, "timings.jsonl")))
        self.assertEqual([t["generation"] for t in self.run.timings], list(range(7)))
        self.assertEqual(self.run.evaluations, [])
        self.assertEqual(self.run.meta, [])
        self.assertEqual(self.run.skipped_lines, 0)
        for key in ("generation", "island", "phase", "best", "mean", "median", "non_finite", "best_ever", "evaluations", "bytes_migrated"):
            self.assertIn(key, self.run.metrics[0])
        for key in ("evolve", "decode", "migrate", "meta_training", "allreduce", "checkpoint", "total", "rank"):
            self.assertIn(key, self.run.timings[0])

    def test_summary_agrees_with_metrics(self):
        s = self.run.summary
        self.assertTrue(self.run.finished)
        self.assertEqual(s["generations"], 6)
        last = [m for m in self.run.metrics if m["generation"] == 6]
        best = max(last, key=lambda m: m["best_ever"])
        self.assertEqual(np.float32(s["bestFitness"]), np.float32(best["best_ever"]))
        self.assertEqual(s["bestIsland"], best["island"])
        self.assertEqual(s["evaluations"], sum(m["evaluations"] for m in last))

    def test_config_is_the_source_config_resolved(self):
        # config.yaml is atoll's block YAML; configs/tiny.yaml is flow YAML: every key given there
        # reads the same from both.
        with open(os.path.join(ROOT, "configs/tiny.yaml")) as f:
            source = parse_yaml(f.read())

        def check(given, resolved, path):
            for key, value in given.items():
                self.assertIn(key, resolved, path + key)
                if isinstance(value, dict):
                    check(value, resolved[key], path + key + ".")
                elif key != "network":
                    self.assertEqual(np.float32(resolved[key]) if isinstance(value, float) else resolved[key], value, path + key)

        check(source, self.run.config, "")
        self.assertEqual(self.run.config["network"], {"input": [64], "layers": [{"linear": 8}, "relu", {"linear": 10}]})
        self.assertEqual(self.run.config["task"]["options"]["test_fraction"], 0.2)
        self.assertIsInstance(self.run.config["task"]["options"]["timeout"], float)

    def test_best_is_the_network_atoll_scores(self):
        params = self.run.best()
        self.assertEqual(list(params), ["0.weight", "0.bias", "2.weight", "2.bias"])
        self.assertEqual([p.shape for p in params.values()], [(8, 64), (8,), (10, 8), (10,)])
        self.assertTrue(all(p.dtype == np.float32 for p in params.values()))
        self.assertEqual(self.run.network(), self.run.config["network"])
        report = json.loads(atoll("evaluate", "--task", "digits", "--network", "mlp:64-8-10", "--weights", self.run.best_path))
        self.assertEqual(np.float32(report["fitness"]), np.float32(self.run.summary["bestFitness"]))
        # A numpy forward pass over all 1,797 digits classifies as many correctly as atoll's train
        # and test splits together (the split itself is atoll's, the count does not depend on it).
        with gzip.open(os.path.join(ROOT, "data/digits.csv.gz"), "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.float32)
        x, y = table[:, :64] / 16, table[:, 64].astype(int)
        hidden = np.maximum(x @ params["0.weight"].T + params["0.bias"], 0)
        logits = hidden @ params["2.weight"].T + params["2.bias"]
        correct = int(np.sum(np.argmax(logits, axis=1) == y))
        expected = sum(round(report[s]["accuracy"] * report[s]["samples"]) for s in ("train", "test"))
        self.assertEqual(report["train"]["samples"] + report["test"]["samples"], len(y))
        self.assertEqual(correct, expected)
        self.assertAlmostEqual(report["test"]["accuracy"], self.run.summary["testAccuracy"], places=12)

    def test_export_of_the_arrays_gives_the_same_tensors(self):
        params = self.run.best()
        genome = os.path.join(Runs.work, "tiny-genome.npy")
        exported = os.path.join(Runs.work, "tiny-export.safetensors")
        np.save(genome, np.concatenate([p.reshape(-1) for p in params.values()]))
        atoll("export", "--network", "mlp:64-8-10", "--genome", genome, "--out", exported)
        again, _ = read_safetensors(exported)
        self.assertEqual(list(again), list(params))
        for name in params:
            self.assertEqual(again[name].shape, params[name].shape)
            self.assertTrue(np.array_equal(again[name].view(np.uint32), params[name].view(np.uint32)), name)

    def test_a_damaged_safetensors_file_is_an_error_naming_it(self):
        with open(self.run.best_path, "rb") as f:
            data = f.read()
        broken = os.path.join(Runs.work, "broken.safetensors")
        for cut, message in ((data[:-4], "data_offsets"), (data[:6], "too short"), (data[:8] + b"x" + data[9:], "not JSON")):
            with open(broken, "wb") as f:
                f.write(cut)
            with self.assertRaisesRegex(ValueError, re.escape(broken) + ".*" + message):
                read_safetensors(broken)

    @unittest.skipUnless(has("torch"), "torch is not importable")
    def test_best_module_loads_into_sequential(self):
        import torch

        model = torch.nn.Sequential(torch.nn.Linear(64, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))
        self.run.best_module(model)
        self.assertTrue(torch.equal(model[0].weight.detach(), torch.from_numpy(self.run.best()["0.weight"])))

    @unittest.skipUnless(has("pandas"), "pandas is not importable")
    def test_frames_with_pandas(self):
        run = Run(self.dir)
        self.assertEqual(len(run.metrics), 28)
        self.assertEqual(list(run.metrics["island"][:4]), [0, 1, 2, 3])

    def test_plot_example_runs(self):
        out = os.path.join(Runs.work, "fitness.png")
        result = subprocess.run([sys.executable, os.path.join(ROOT, "examples/plot_run.py"), self.dir, out], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        if has("matplotlib"):
            self.assertTrue(os.path.getsize(out) > 1000)
        else:
            rows = [line.split() for line in result.stdout.splitlines()[2:]]
            self.assertEqual([int(r[0]) for r in rows], [0, 1, 2, 3])
            last = {m["island"]: m for m in self.run.metrics if m["generation"] == 6}
            for r in rows:
                self.assertEqual(int(r[2]), last[int(r[0])]["evaluations"])
                self.assertAlmostEqual(float(r[3]), last[int(r[0])]["best"], delta=abs(last[int(r[0])]["best"]) * 1e-5)


class OtherRuns(unittest.TestCase):
    def test_full_evaluations_of_a_minibatch_run(self):
        run = Run(Runs.get("minibatch", config_text=MINIBATCH), frames=False)
        self.assertEqual([e["generation"] for e in run.evaluations], [2, 4, 5])
        self.assertEqual(len(run.metrics), 2 * 6)
        self.assertTrue(all("kind" not in m for m in run.metrics))
        last = run.evaluations[-1]
        self.assertEqual(last["test_accuracy"], run.summary["testAccuracy"])
        self.assertEqual(last["train_accuracy"], run.summary["trainAccuracy"])
        self.assertEqual(np.float32(last["fitness"]), np.float32(run.summary["bestFitness"]))

    def test_meta_and_ranks_of_a_latent_run(self):
        directory = Runs.get("latent", config="configs/tiny-latent.yaml", ranks=2)
        run = Run(directory, frames=False)
        self.assertEqual(run.meta, file_lines(os.path.join(directory, "meta.jsonl")))
        self.assertGreater(len(run.meta), 0)
        for key in ("generation", "phase", "steps", "reconstruction", "behaviour", "gap", "head", "retention", "evaluations"):
            self.assertIn(key, run.meta[0])
        self.assertEqual(sorted({t["rank"] for t in run.timings}), [0, 1])

    def test_best_kind_of_an_anchored_run(self):
        run = Run(Runs.get("anchored", config="configs/tiny-anchored.yaml"), frames=False)
        lines = file_lines(os.path.join(run.path, "metrics.jsonl"))
        self.assertEqual([m.get("best_kind") for m in run.metrics], [m.get("best_kind") for m in lines])
        kinds = {m["best_kind"] for m in run.metrics if "best_kind" in m}
        self.assertTrue(kinds and kinds <= {"full", "latent", "guided"}, kinds)

    def test_null_statistics_read_as_minus_infinity(self):
        folder = os.path.join(Runs.work or tempfile.mkdtemp(), "nulls")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.yaml"), "w") as f:
            f.write("seed: 1\n")
        with open(os.path.join(folder, "metrics.jsonl"), "w") as f:
            f.write('{"best":null,"best_ever":null,"bytes_migrated":0,"evaluations":8,"generation":0,"island":0,"mean":null,"median":null,"non_finite":8,"phase":"weights"}\n')
        run = Run(folder, frames=False)
        self.assertEqual(run.metrics[0]["best"], -math.inf)
        self.assertEqual(run.metrics[0]["best_ever"], -math.inf)
        with self.assertRaises(FileNotFoundError):
            run.best()


class YamlReader(unittest.TestCase):
    def test_block_flow_and_scalars(self):
        text = ("a:\n- 1\n- x: 2\n  y: [1, 2.5e-1]\n- - 3\n  - 4\nb:\n  c:\n    - linear:\n        out: 8\n    - relu\n"
                "  d: 'it''s' # comment\n  e: \"q#\"\n  f: -.inf\n  g: 2e-1\n  h: {k: [1,\n      2], m: ~}\n  i: true\n")
        self.assertEqual(parse_yaml(text), {
            "a": [1, {"x": 2, "y": [1, 0.25]}, [3, 4]],
            "b": {"c": [{"linear": {"out": 8}}, "relu"], "d": "it's", "e": "q#", "f": -math.inf, "g": 0.2, "h": {"k": [1, 2], "m": None}, "i": True},
        })

    def test_errors_name_the_line(self):
        with self.assertRaisesRegex(ValueError, r"x.yaml line 3: unexpected indentation"):
            parse_yaml("a:\n  b: 1\n c: 2\n", "x.yaml")
        with self.assertRaisesRegex(ValueError, r"x.yaml line 2: expected key: value"):
            parse_yaml("a: 1\nplain\n", "x.yaml")
        with self.assertRaisesRegex(ValueError, r"not closed"):
            parse_yaml("a: {b: 1\n", "x.yaml")


class KilledRun(unittest.TestCase):
    """A run read while it goes, then killed with SIGKILL; then its log cut in the middle of a line."""

    def test_killed_run_reads_like_atoll_report(self):
        work = Runs.work or tempfile.mkdtemp()
        Runs.work = work
        config = os.path.join(work, "long.yaml")
        with open(config, "w") as f:
            f.write(LONG)
        directory = os.path.join(work, "killed")
        process = subprocess.Popen([ATOLL, "run", config, "--out", directory, "--force"], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        metrics = os.path.join(directory, "metrics.jsonl")
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                if os.path.exists(metrics) and len(read_jsonl(metrics)[0]) >= 4 * 12:
                    break
                time.sleep(0.05)
            going = Run(directory, frames=False)  # while it runs
            self.assertFalse(going.finished)
            self.assertGreaterEqual(len(going.metrics), 4 * 12)
            time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        self.assertEqual(process.returncode, -signal.SIGKILL)
        run = Run(directory, frames=False)
        self.assertIsNone(run.summary)
        self.assertGreaterEqual(len(run.metrics), len(going.metrics))
        self.assertEqual(run.metrics[: len(going.metrics)], going.metrics)
        with self.assertRaises(FileNotFoundError):
            run.best()
        self.assert_reads_like_report(run, directory)

        # The state a kill in the middle of a write leaves: the last line cut short.
        cut = os.path.join(work, "cut")
        shutil.copytree(directory, cut, ignore=shutil.ignore_patterns("run.lock", "checkpoints"))
        with open(os.path.join(cut, "metrics.jsonl"), "rb") as f:
            data = f.read()
        data = data[: data.rfind(b"\n")]  # drop the last newline ...
        data = data[: data.rfind(b"\n") + 1 + 40]  # ... and all but 40 bytes of the last line
        with open(os.path.join(cut, "metrics.jsonl"), "wb") as f:
            f.write(data)
        complete = file_lines(os.path.join(cut, "metrics.jsonl"))
        partial = Run(cut, frames=False)
        self.assertEqual(partial.metrics, complete)
        self.assertEqual(len(partial.metrics), len(run.metrics) - 1)
        self.assertEqual(partial.skipped_lines, run.skipped_lines + 1)
        self.assert_reads_like_report(partial, cut)

    def assert_reads_like_report(self, run, directory):
        """atoll report's status line counts the same generations, last generation and skipped lines."""
        page = os.path.join(directory, "check.html")
        atoll("report", directory, "--out", page)
        with open(page) as f:
            html = f.read()
        found = re.search(r"(\d+) generation\(s\) logged, the last (\d+)", html)
        self.assertIsNotNone(found, "no status line in the report")
        generations = sorted({m["generation"] for m in run.metrics})
        self.assertEqual((int(found.group(1)), int(found.group(2))), (len(generations), generations[-1]))
        skipped = re.search(r"(\d+) incomplete or unreadable log line", html)
        self.assertEqual(int(skipped.group(1)) if skipped else 0, run.skipped_lines)


def tearDownModule():
    if Runs.work:
        shutil.rmtree(Runs.work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        ATOLL = os.path.abspath(sys.argv.pop(1))
    if not os.access(ATOLL, os.X_OK):
        sys.exit(f"test_atoll_run: {ATOLL} is not an executable atoll (build it, or pass its path)")
    unittest.main(verbosity=2)
