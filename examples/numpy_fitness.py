#!/usr/bin/env python3
"""Fitness in plain numpy through python/atoll_evaluator.py: fit y = sin(pi x) on 32 points of
[-1, 1] with a 1-16-1 tanh network, fitness = -MSE (the task of examples/external_evaluator.py,
without the protocol code).

    atoll run examples/sin_fit.yaml          # task: external:python3 examples/numpy_fitness.py
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from atoll_evaluator import serve  # noqa: E402

X = np.linspace(-1.0, 1.0, 32, dtype=np.float32).reshape(-1, 1)
Y = np.sin(np.pi * X[:, 0])


def fitness(params):
    hidden = np.tanh(X @ params["0.weight"].T + params["0.bias"])
    output = hidden @ params["2.weight"].T + params["2.bias"]
    return -float(np.mean((output[:, 0] - Y) ** 2))


if __name__ == "__main__":
    serve(fitness)
