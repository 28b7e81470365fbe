"""Write Atoll's fitness function in Python: ``serve(lambda params: my_fitness(params))``.

Atoll runs a program named by ``task: external:python3 my_fitness.py`` and sends it batches of
genomes over stdin (docs/external-protocol.md). This module speaks that protocol: each genome
reaches your function as ``params``, a dict from PyTorch names (``"0.weight"`` of shape
``[out, in]``, ``"0.bias"``, ``"2.weight"``, ...) to float32 numpy arrays of the shapes
``torch.nn.Sequential.state_dict()`` would hold, so ``model.load_state_dict({k:
torch.from_numpy(v) for k, v in params.items()})`` works. Return one number per genome,
higher is better::

    from atoll_evaluator import serve

    def fitness(params):
        return -float(np.sum(params["0.weight"] ** 2))

    serve(fitness)

A function of two arguments also gets an ``Info`` (generation, seed, the network's spec and
tensor table, the genome's index in the batch), so that a stochastic task can draw the same
conditions for every genome of a generation. ``serve(f, batch=True)`` calls ``f`` once per batch
with arrays of shape ``[P, *shape]`` and expects ``P`` values back.

Anything printed goes to stderr (stdout carries the protocol). If your function raises, the
traceback is written to stderr, which Atoll shows, and the program exits with status 1, so the run
stops with an error naming the generation. Needs only numpy; put this file beside your script or
on ``PYTHONPATH``.
"""

import inspect
import json
import struct
import sys
import traceback
from dataclasses import dataclass

import numpy as np

__all__ = ["serve", "Info", "Network"]

MAGIC = b"ATOLLEV1"
VERSION = 1


@dataclass(frozen=True)
class Network:
    """The header Atoll sends: floats per genome, the spec (parsed JSON) and the tensor table,
    a list of ``(name, shape, offset)`` in genome order."""

    parameter_count: int
    spec: dict
    tensors: list


@dataclass(frozen=True)
class Info:
    """What a two-argument fitness function gets besides the parameters."""

    generation: int
    seed: int
    network: Network
    #: Index of the genome in its batch (``None`` with ``batch=True``).
    index: int
    #: Genomes in the batch.
    count: int


class ProtocolError(Exception):
    pass


def _read_exactly(stream, n):
    """``n`` bytes, or ``None`` if the stream ends first (Atoll closed our stdin)."""
    buffer = bytearray(n)
    view = memoryview(buffer)
    got = 0
    while got < n:
        chunk = stream.readinto(view[got:])
        if not chunk:
            return None
        got += chunk
    return buffer


def _read_u32(stream):
    data = _read_exactly(stream, 4)
    if data is None:
        raise ProtocolError("the header ended early")
    return struct.unpack("<I", data)[0]


def _read_string(stream):
    n = _read_u32(stream)
    data = _read_exactly(stream, n)
    if data is None:
        raise ProtocolError("the header ended early")
    return data.decode("utf-8")


def read_header(stream):
    """Reads the header; returns a ``Network``."""
    magic = _read_exactly(stream, 8)
    if magic != MAGIC:
        raise ProtocolError(f"the input does not start with the ATOLLEV1 header (got {bytes(magic or b'')!r}); "
                            "run this program as an Atoll task: external:python3 " + sys.argv[0])
    version = _read_u32(stream)
    if version != VERSION:
        raise ProtocolError(f"protocol version {version}, this module speaks {VERSION}")
    parameter_count = _read_u32(stream)
    spec = json.loads(_read_string(stream))
    tensors = []
    for _ in range(_read_u32(stream)):
        name = _read_string(stream)
        rank = _read_u32(stream)
        shape = tuple(_read_u32(stream) for _ in range(rank))
        offset = _read_u32(stream)
        tensors.append((name, shape, offset))
    return Network(parameter_count, spec, tensors)


def _arity(function):
    """Positional parameters ``function`` takes (1 if it cannot be told)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 1
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return 2
    return len(positional)


def _fail(message):
    sys.stderr.write(f"atoll_evaluator: {message}\n")
    sys.stderr.flush()
    sys.exit(1)


def serve(fitness, *, batch=False, stdin=None, stdout=None):
    """Answers Atoll's batches with ``fitness`` until Atoll closes stdin, then returns.

    ``fitness(params)`` or ``fitness(params, info)`` returns one number per genome; with
    ``batch=True`` it gets every genome of a batch at once (arrays ``[P, *shape]``) and returns
    ``P`` numbers. Exits with status 1, the traceback on stderr, if ``fitness`` raises or returns
    something that is not a number.
    """
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    # stdout is the protocol's: whatever the user's code prints goes to stderr instead.
    sys.stdout = sys.stderr
    try:
        network = read_header(stdin)
    except ProtocolError as error:
        _fail(str(error))
    with_info = _arity(fitness) >= 2
    n = network.parameter_count
    stdout.write(MAGIC + struct.pack("<I", VERSION))
    stdout.flush()
    while True:
        prefix = _read_exactly(stdin, 16)
        if prefix is None:
            return
        count, generation, seed = struct.unpack("<IIQ", prefix)
        data = _read_exactly(stdin, 4 * count * n)
        if data is None:
            _fail(f"the batch of generation {generation} ended early")
        genomes = np.frombuffer(data, dtype="<f4").reshape(count, n)
        # One view per tensor over the whole batch: params of genome i are views[name][i].
        views = {name: genomes[:, offset:offset + int(np.prod(shape, dtype=np.int64))].reshape((count,) + shape)
                 for name, shape, offset in network.tensors}
        scores = np.empty(count, dtype="<f4")
        index = None
        try:
            if batch:
                info = Info(generation, seed, network, None, count)
                values = fitness(views, info) if with_info else fitness(views)
                values = np.asarray(values, dtype=np.float64).reshape(-1)
                if values.shape[0] != count:
                    _fail(f"the batch fitness function returned {values.shape[0]} values for {count} genomes (generation {generation})")
                scores[:] = values
            else:
                items = list(views.items())
                for index in range(count):
                    params = {name: view[index] for name, view in items}
                    value = fitness(params, Info(generation, seed, network, index, count)) if with_info else fitness(params)
                    scores[index] = float(value)
        except Exception as error:
            where = f"genome {index} of {count}" if index is not None else f"a batch of {count} genomes"
            # The traceback from the user's function down (the frame of serve itself left out).
            frames = "".join(traceback.format_exception(type(error), error, error.__traceback__.tb_next))
            _fail(f"the fitness function raised an exception on {where} (generation {generation}):\n{frames}")
        stdout.write(struct.pack("<I", count) + scores.tobytes())
        stdout.flush()
