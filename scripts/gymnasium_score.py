#!/usr/bin/env python3
"""Re-scores a control run's best network in Gymnasium itself, on start states no run trained on.

Usage: pip install gymnasium numpy
       python3 scripts/gymnasium_score.py RUN_DIR [--episodes 50] [--first-seed 0] [--env ENV]

Loads RUN_DIR/best.safetensors with python/atoll_run.py, rebuilds the network from the spec stored
in it (linear layers and element-wise activations, as `nn.Sequential`), and runs it as the policy
of `gymnasium.make(ENV)` (default: the run's task) for EPISODES episodes, episode i reset with
`seed=FIRST_SEED + i`: Gymnasium's own start-state draws, which Atoll's runs never use. The action
is as Atoll's tasks take it: a continuous action is the network's output (the environment clips
it, as Atoll does), a discrete one the index of the largest output. Prints one JSON object: the
mean return, its standard deviation and standard error, min and max, and the episodes.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from atoll_run import Run  # noqa: E402

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
}


def policy(spec, params):
    """The network of ``spec`` with weights ``params`` as a function of one observation."""
    layers = []
    for index, layer in enumerate(spec["layers"]):
        if isinstance(layer, dict) and "linear" in layer:
            w = params[f"{index}.weight"].astype(np.float32)
            b = params.get(f"{index}.bias", np.zeros(w.shape[0], np.float32))
            layers.append(lambda x, w=w, b=b: x @ w.T + b)
        elif layer in ACTIVATIONS:
            layers.append(ACTIVATIONS[layer])
        else:
            raise SystemExit(f"gymnasium_score: layer {index} ({layer}) is not supported here")

    def forward(observation):
        x = np.asarray(observation, dtype=np.float32)
        for f in layers:
            x = f(x).astype(np.float32)
        return x

    return forward


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run")
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--env")
    args = parser.parse_args()
    import gymnasium

    run = Run(args.run, frames=False)
    env_id = args.env or run.config["task"]["name"]
    forward = policy(run.network(), run.best())
    env = gymnasium.make(env_id)
    discrete = isinstance(env.action_space, gymnasium.spaces.Discrete)
    returns = []
    for i in range(args.episodes):
        observation, _ = env.reset(seed=args.first_seed + i)
        total, done = 0.0, False
        while not done:
            output = forward(observation)
            action = int(np.argmax(output)) if discrete else output
            observation, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    r = np.array(returns)
    print(json.dumps({
        "run": args.run, "env": env_id, "gymnasium": gymnasium.__version__, "episodes": len(r),
        "seeds": [args.first_seed, args.first_seed + len(r) - 1],
        "mean_return": round(float(r.mean()), 3), "sd": round(float(r.std(ddof=1)), 3) if len(r) > 1 else 0.0,
        "se": round(float(r.std(ddof=1) / np.sqrt(len(r))), 3) if len(r) > 1 else 0.0,
        "min": round(float(r.min()), 3), "max": round(float(r.max()), 3),
        "returns": [round(x, 3) for x in returns],
    }))


if __name__ == "__main__":
    main()
