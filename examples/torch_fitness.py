#!/usr/bin/env python3
"""The fitness of examples/numpy_fitness.py computed by PyTorch: every genome is loaded into a
torch.nn.Sequential with load_state_dict (Atoll's parameter names are PyTorch's), and scored
under torch.no_grad(). Needs torch (pip install torch); use with examples/sin_fit.yaml's network:

    sed 's/numpy_fitness/torch_fitness/' examples/sin_fit.yaml > /tmp/sin_torch.yaml
    atoll run /tmp/sin_torch.yaml
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from atoll_evaluator import serve  # noqa: E402

try:
    import torch
except ImportError:
    sys.exit("torch_fitness.py: torch is not installed (pip install torch); examples/numpy_fitness.py needs numpy only")

torch.set_num_threads(1)
model = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
X = torch.linspace(-1.0, 1.0, 32).reshape(-1, 1)
Y = torch.sin(torch.pi * X[:, 0])


def fitness(params):
    model.load_state_dict({name: torch.from_numpy(value) for name, value in params.items()})
    with torch.no_grad():
        return -torch.mean((model(X)[:, 0] - Y) ** 2).item()


if __name__ == "__main__":
    serve(fitness)
