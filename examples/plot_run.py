#!/usr/bin/env python3
"""Best and mean fitness per island of an Atoll run, against the island's evaluations.

Usage: python3 examples/plot_run.py RUN_DIR [OUT.png]

With matplotlib importable it draws both curves per island (solid: best, dashed: mean) and saves
OUT.png (default RUN_DIR/fitness.png); without it, it prints a table of the last generation logged
per island. Works on a run still going or killed (python/atoll_run.py leaves out a partial line).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from atoll_run import Run  # noqa: E402


def curves(run):
    """{island: (evaluations, best, mean)} from the island lines, in generation order."""
    out = {}
    for m in run.metrics if isinstance(run.metrics, list) else run.metrics.to_dict("records"):
        e, b, a = out.setdefault(m["island"], ([], [], []))
        e.append(m["evaluations"])
        b.append(m["best"])
        a.append(m["mean"])
    return out


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    run = Run(argv[1], frames=False)
    per_island = curves(run)
    if not per_island:
        print(f"{run.path}: metrics.jsonl holds no generation yet")
        return 1
    name = (run.summary or {}).get("fitnessName", "fitness")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is None:
        print(f"{run.path}: {'finished' if run.finished else 'not finished'}; matplotlib is not importable, so a table ({name}):")
        print(f"{'island':>6} {'generation':>10} {'evaluations':>11} {'best':>12} {'mean':>12}")
        last = {}
        for m in run.metrics if isinstance(run.metrics, list) else run.metrics.to_dict("records"):
            last[m["island"]] = m
        for island in sorted(last):
            m = last[island]
            print(f"{island:>6} {m['generation']:>10} {m['evaluations']:>11} {m['best']:>12.6g} {m['mean']:>12.6g}")
        return 0
    figure, axis = plt.subplots(figsize=(8, 5))
    for island, (evaluations, best, mean) in sorted(per_island.items()):
        line, = axis.plot(evaluations, best, label=f"island {island} best")
        axis.plot(evaluations, mean, linestyle="--", color=line.get_color(), label=f"island {island} mean")
    axis.set_xlabel("evaluations (networks scored on the island so far)")
    axis.set_ylabel(f"{name} (higher is better)")
    axis.set_title(os.path.basename(os.path.normpath(run.path)))
    axis.legend(fontsize="small", ncol=2)
    out = argv[2] if len(argv) == 3 else os.path.join(run.path, "fitness.png")
    figure.savefig(out, dpi=120, bbox_inches="tight")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
