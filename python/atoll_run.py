"""Read an Atoll run folder in Python: ``Run("runs/digits")``.

A run folder (``atoll run CONFIG --out DIR``) holds::

    config.yaml       the resolved configuration, as Atoll wrote it
    metrics.jsonl     one line per island and generation (generation, island, phase, best, mean,
                      median, non_finite, best_ever, evaluations, bytes_migrated[, best_kind]),
                      and lines with "kind": "full_evaluation" (generation, island, fitness,
                      train_loss, train_accuracy, test_loss, test_accuracy) every
                      task.options.eval_every generations and, for a dataset task (also with
                      minibatch fitness), after the last; a control task's carry the fitness only
    timings.jsonl     one line per rank and generation, in seconds (evolve, decode, migrate,
                      meta_training, allreduce, checkpoint, total)
    meta.jsonl        one line per meta-learner round (latent runs)
    best.safetensors  the best network, PyTorch nn.Sequential names (written at the end)
    summary.json      generations, stopReason, fitnessName, bestFitness, bestIsland,
                      trainAccuracy, testAccuracy, evaluations, wallSeconds, peakMemoryMiB, blas
                      (written at the end)

Three lines load a run's metrics and its best network::

    from atoll_run import Run                 # python/atoll_run.py beside your script or on PYTHONPATH
    run = Run("runs/digits")
    run.metrics, run.best()                   # records (a DataFrame with pandas); name -> numpy array

``Run`` reads a run that is still going or was killed the way ``atoll report`` does: a last line
without its newline (being written, or cut off by the kill) is left out, as is a line that is not
valid JSON; ``skipped_lines`` counts both. Files not yet written give empty logs and ``None``
(``summary``); ``best()`` raises ``FileNotFoundError`` until the run has written
``best.safetensors`` (at its end). Each ``Run(path)`` reads the folder once; ``reload()`` reads it
again.

Tables are lists of dicts, or ``pandas.DataFrame`` when pandas is importable (``frames=False``
keeps lists). Fitness statistics that Atoll logs as ``null`` (no finite value) read as ``-inf``, as
Atoll reads them back.

``config`` is the parsed ``config.yaml`` (a dict), read by ``parse_yaml`` below, a small reader of
the YAML Atoll writes (block maps, ``-`` lists, flow collections, plain and quoted scalars), never
by PyYAML: Atoll writes YAML 1.2, where ``2e-1`` is a number, and PyYAML's YAML 1.1 rules would
read it as a string. ``config_text`` is the text itself.

Needs only numpy; ``best_module`` needs torch.
"""

import json
import math
import os
import re
import struct

import numpy as np

__all__ = ["Run", "read_safetensors", "read_jsonl", "parse_yaml"]

#: Island-line fields that Atoll writes as JSON null when they are not finite (read back as -inf).
_NULL_IS_MINUS_INF = ("best", "mean", "median", "best_ever")


def read_jsonl(path):
    """The records of a JSON-lines file and how many lines were left out.

    Complete lines only: text after the last newline is a line still being written (or cut off by a
    kill) and is left out; so is a line that does not parse. Returns ``(records, skipped)``; a
    missing file gives ``([], 0)``.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return [], 0
    records, skipped = [], 0
    end = data.rfind(b"\n")
    if end + 1 < len(data):
        skipped += 1
    for line in data[: end + 1].split(b"\n"):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            skipped += 1
    return records, skipped


# MARK: - safetensors

_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}


def read_safetensors(path):
    """The tensors and metadata of a safetensors file: ``(tensors, metadata)``.

    The format: an unsigned 64-bit little-endian header length ``N``, ``N`` bytes of JSON mapping
    each name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets from the first data
    byte) plus an optional ``"__metadata__"`` map of strings, then the raw little-endian data. As
    Atoll reads it: F32, F64, F16 and BF16 are accepted and returned as float32, and the tensors
    must tile the data exactly. ``tensors`` is a dict in data order (for an Atoll file, the order
    of ``nn.Sequential.state_dict()``).

    Raises ``ValueError`` naming the file (and the tensor) for a file that is not one.
    """
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: {len(data)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} does not fit the file's {len(data)} bytes")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{path}: header is not JSON ({error})") from None
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n :]
    entries = sorted(header.items(), key=lambda item: item[1]["data_offsets"][0])
    tensors, position = {}, 0
    for name, entry in entries:
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has dtype {entry.get('dtype')!r}; expected F32, F64, F16 or BF16")
        shape = tuple(int(d) for d in entry["shape"])
        begin, end = entry["data_offsets"]
        count = math.prod(shape)
        if begin != position or end - begin != count * dtype.itemsize:
            raise ValueError(f"{path}: tensor {name!r} has data_offsets [{begin}, {end}], expected [{position}, {position + count * dtype.itemsize}]")
        if end > len(body):
            raise ValueError(f"{path}: tensor {name!r} has data_offsets [{begin}, {end}] past the end of the data ({len(body)} bytes; truncated?)")
        values = np.frombuffer(body[begin:end], dtype=dtype)
        if entry["dtype"] == "BF16":
            values = (values.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = values.astype(np.float32).reshape(shape)
        position = end
    if position != len(body):
        raise ValueError(f"{path}: the tensors end at data byte {position}, the file at {len(body)}")
    return tensors, metadata


# MARK: - YAML

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


def _scalar(text, where):
    text = text.strip()
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise ValueError(f"{where}: unterminated quoted string {text}")
        return text[1:-1].replace("''", "'")
    if text.startswith('"'):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(f"{where}: cannot read the quoted string {text}") from None
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text.replace("_", ""))
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text.replace("_", ""))
    lowered = text.lower()
    if lowered in (".inf", "+.inf"):
        return math.inf
    if lowered == "-.inf":
        return -math.inf
    if lowered == ".nan":
        return math.nan
    return text


def _split_flow(text, where):
    """Splits the inside of a flow collection at top-level commas."""
    parts, depth, quote, start = [], 0, None, 0
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0 or quote:
        raise ValueError(f"{where}: unbalanced flow collection")
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _key_value(text):
    """``key: value`` split at the first ``:`` followed by a space or the end, outside quotes."""
    quote = None
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"" and i == 0:
            quote = c
        elif c == ":" and (i + 1 == len(text) or text[i + 1] == " "):
            return text[:i].strip(), text[i + 1 :].strip()
    return None


def _value(text, where):
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        out = {}
        for part in _split_flow(text[1:-1], where):
            kv = _key_value(part.strip())
            if kv is None:
                raise ValueError(f"{where}: expected key: value in {{...}}, got {part.strip()!r}")
            out[_scalar(kv[0], where)] = _value(kv[1], where)
        return out
    if text.startswith("[") and text.endswith("]"):
        return [_value(p, where) for p in _split_flow(text[1:-1], where)]
    return _scalar(text, where)


def _strip_comment(line):
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _flow_depth(line):
    """Brackets opened minus closed on a line, outside quotes."""
    depth, quote = 0, None
    for c in line:
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
    return depth


def parse_yaml(text, source="config.yaml"):
    """Parses the block YAML Atoll writes (no PyYAML needed): nested maps by indentation, ``- ``
    lists (items may be scalars, maps or lists), flow collections (``{a: 1}``, ``[1, 2]``, over several lines), plain and quoted
    scalars, comments. Anchors, tags and multi-line scalars are not read: ``ValueError`` names the
    line."""
    lines, open_flow = [], 0
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.strip() in ("---", "..."):
            continue
        line = _strip_comment(raw)
        if not line.strip():
            continue
        if open_flow > 0:  # a flow collection continued from the line before
            indent, previous, first = lines.pop()
            lines.append((indent, previous + " " + line.strip(), first))
        else:
            if "\t" in line[: len(line) - len(line.lstrip())]:
                raise ValueError(f"{source} line {number}: tab in indentation")
            lines.append((len(line) - len(line.lstrip(" ")), line.strip(), number))
        open_flow += _flow_depth(line)
    if open_flow:
        raise ValueError(f"{source}: a flow collection ({{...}} or [...]) is not closed at the end of the file")
    if not lines:
        return None
    value, end = _block(lines, 0, lines[0][0], source)
    if end != len(lines):
        raise ValueError(f"{source} line {lines[end][2]}: unexpected indentation")
    return value


def _block(lines, i, indent, source):
    """The block node starting at ``lines[i]`` with indentation ``indent``: ``(value, next i)``."""
    _, text, number = lines[i]
    if text == "-" or text.startswith("- "):
        items = []
        while i < len(lines) and lines[i][0] == indent and (lines[i][1] == "-" or lines[i][1].startswith("- ")):
            _, text, number = lines[i]
            rest = text[1:].strip()
            if not rest:  # "-" alone: the item is the block below
                if i + 1 < len(lines) and lines[i + 1][0] > indent:
                    item, i = _block(lines, i + 1, lines[i + 1][0], source)
                else:
                    item, i = None, i + 1
            else:  # "- x" or "- key: value": the item starts after the dash, its lines indented to it
                child = indent + (len(text) - len(rest))
                lines[i] = (child, rest, number)
                item, i = _block(lines, i, child, source)
            items.append(item)
        return items, i
    kv = _key_value(text)
    if kv is None:
        return _value(text, f"{source} line {number}"), i + 1
    out = {}
    while i < len(lines) and lines[i][0] == indent:
        _, text, number = lines[i]
        kv = _key_value(text)
        if kv is None:
            raise ValueError(f"{source} line {number}: expected key: value, got {text!r}")
        key, rest = _scalar(kv[0], f"{source} line {number}"), kv[1]
        i += 1
        if rest:
            out[key] = _value(rest, f"{source} line {number}")
        elif i < len(lines) and (lines[i][0] > indent or (lines[i][0] == indent and lines[i][1].startswith("- "))):
            out[key], i = _block(lines, i, lines[i][0], source)
        else:
            out[key] = None
    return out, i


# MARK: - Run


def _frame(records, frames):
    if frames:
        import pandas

        return pandas.DataFrame.from_records(records)
    return records


class Run:
    """An Atoll run folder, finished, in progress or killed.

    Attributes (read when made, again by ``reload()``):
        path         the folder
        metrics      island lines of metrics.jsonl: one per island and generation
        evaluations  the "kind": "full_evaluation" lines of metrics.jsonl (the run's best network
                     scored on whole splits; for a control task, its fitness on that
                     generation's start states)
        timings      timings.jsonl: one per rank and generation
        meta         meta.jsonl: one per meta-learner round
        summary      summary.json as a dict, or None before the run has finished
        config       config.yaml parsed (dict); config_text, its text
        skipped_lines  lines of the three logs left out (incomplete last line, not JSON)
    """

    def __init__(self, path, frames=None):
        self.path = os.fspath(path)
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"{self.path} is not a folder")
        if frames is None:
            try:
                import pandas  # noqa: F401

                frames = True
            except ImportError:
                frames = False
        self.frames = frames
        self.reload()

    def reload(self):
        """Reads the folder again (a run in progress has written more)."""
        config_path = os.path.join(self.path, "config.yaml")
        try:
            with open(config_path, encoding="utf-8") as f:
                self.config_text = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"{self.path} is not a run folder: it has no config.yaml") from None
        self.config = parse_yaml(self.config_text, config_path)
        metrics, skipped_metrics = read_jsonl(os.path.join(self.path, "metrics.jsonl"))
        timings, skipped_timings = read_jsonl(os.path.join(self.path, "timings.jsonl"))
        meta, skipped_meta = read_jsonl(os.path.join(self.path, "meta.jsonl"))
        islands, evaluations = [], []
        for record in metrics:
            if record.get("kind") == "full_evaluation":
                evaluations.append(record)
            else:
                for key in _NULL_IS_MINUS_INF:
                    if key in record and record[key] is None:
                        record[key] = -math.inf
                islands.append(record)
        self.skipped_lines = skipped_metrics + skipped_timings + skipped_meta
        self.metrics = _frame(islands, self.frames)
        self.evaluations = _frame(evaluations, self.frames)
        self.timings = _frame(timings, self.frames)
        self.meta = _frame(meta, self.frames)
        try:
            with open(os.path.join(self.path, "summary.json"), encoding="utf-8") as f:
                self.summary = json.load(f)
        except FileNotFoundError:
            self.summary = None
        return self

    @property
    def finished(self):
        """Whether the run has written its summary (and best network)."""
        return self.summary is not None

    @property
    def best_path(self):
        return os.path.join(self.path, "best.safetensors")

    def best(self):
        """The best network: a dict from PyTorch names (``"0.weight"`` ``[out, in]``, ``"0.bias"``,
        ...) to float32 numpy arrays, in ``state_dict`` order.

        Raises ``FileNotFoundError`` while the run has not written ``best.safetensors`` (at its end).
        """
        if not os.path.exists(self.best_path):
            raise FileNotFoundError(f"{self.best_path} does not exist yet: Atoll writes it when the run ends "
                                    f"(continue a stopped run with `atoll resume {self.path}`)")
        return read_safetensors(self.best_path)[0]

    def best_metadata(self):
        """``best.safetensors``'s metadata strings; ``"atoll.network"`` is the network spec (JSON)."""
        return read_safetensors(self.best_path)[1]

    def network(self):
        """The network spec of the best network (parsed from ``"atoll.network"``), or ``None``."""
        spec = self.best_metadata().get("atoll.network")
        return json.loads(spec) if spec else None

    def best_module(self, model, strict=True):
        """Loads the best network into ``model`` (a ``torch.nn.Module`` whose ``state_dict`` has the
        same names and shapes, e.g. the ``nn.Sequential`` the spec describes) with
        ``load_state_dict``, and returns it."""
        import torch

        state = {name: torch.from_numpy(array.copy()) for name, array in self.best().items()}
        model.load_state_dict(state, strict=strict)
        return model

    def __repr__(self):
        state = "finished" if self.finished else "not finished"
        return f"Run({self.path!r}, {state}, {len(self.metrics)} metrics lines)"
