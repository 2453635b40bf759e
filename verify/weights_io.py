"""Reading trained LSA weights safely: ``.npz``, torch ``.pt`` state dicts and JSON.

Nothing is ever unpickled: ``numpy.load(..., allow_pickle=False)`` and
``torch.load(..., weights_only=True)`` (tensors and plain containers only). Every problem is an
:class:`~verify.errors.InputError` with one line naming the file and the key.

The result is a dict name -> value, where a value is a float64 numpy array (from .npz/.pt, and
from JSON numbers) or a numpy object array of exact ``fractions.Fraction`` (JSON text such as
"3/5"). Converting to exact rationals is :func:`exact_array`: a float64 becomes the exact
rational of its binary value (``Fraction(0.1) = 3602879701896397/36028797018963968``), never a
guessed decimal; NaN and infinities are refused.

>>> import numpy as np
>>> exact_array(np.array([0.5, 0.1]), "h", (2,))[1]
Fraction(3602879701896397, 36028797018963968)
"""

from __future__ import annotations

import json
import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import InputError, quote

MAX_WEIGHTS_BYTES = 64 * 2**20
SUFFIXES = (".npz", ".pt", ".pth", ".json")


def _reject_constant(name):
    raise ValueError(f"{name} is not a finite number")


def _from_json_value(value, where):
    """A JSON array (nested lists) of numbers or "p/q" texts -> float64 or Fraction array."""
    from derivations.errors import ExactInputError
    from derivations.exact import parse_rational

    def convert(x, path):
        if isinstance(x, list):
            return [convert(y, f"{path}[{i}]") for i, y in enumerate(x)]
        if isinstance(x, bool) or x is None:
            raise InputError(f"{where}{path}: expected a number, got {json.dumps(x)}")
        if isinstance(x, int):
            return Fraction(x)
        if isinstance(x, float):
            if not math.isfinite(x):
                raise InputError(f"{where}{path}: {x!r} is not a finite number")
            return Fraction(x)
        if isinstance(x, str):
            try:
                value = parse_rational(x, f"{where}{path}")
            except ExactInputError as err:
                raise InputError(str(err)) from None
            return Fraction(int(value.p), int(value.q))
        raise InputError(f"{where}{path}: expected a number or a list, got {type(x).__name__}")

    converted = convert(value, "")
    try:
        arr = np.array(converted, dtype=object)
    except ValueError:
        raise InputError(f"{where}: rows of unequal length") from None
    if arr.dtype != object or any(isinstance(x, list) for x in arr.ravel()):
        raise InputError(f"{where}: rows of unequal length")
    return arr


def _load_json(path: Path, shown: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text[1:] if text.startswith("\ufeff") else text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InputError(f"--weights: {shown} is not UTF-8 text") from None
    except (ValueError, RecursionError) as err:
        raise InputError(f"--weights: {shown} is not valid JSON ({str(err).splitlines()[0][:200]})") from None
    if not isinstance(data, dict):
        raise InputError(f"--weights: {shown} must hold a JSON object of named weights")
    return {str(k): _from_json_value(v, f"--weights: {shown}: {quote(k)}") for k, v in data.items()}


def _load_npz(path: Path, shown: str) -> dict:
    try:
        with np.load(path, allow_pickle=False) as archive:
            out = {}
            for key in archive.files:
                arr = archive[key]
                out[key] = _numeric(arr, f"--weights: {shown}: {quote(key)}")
            return out
    except InputError:
        raise
    except ValueError as err:       # object arrays need pickle: refused
        raise InputError(f"--weights: {shown} holds data that would need unpickling ({str(err)[:120]}); "
                         "save plain numeric arrays") from None
    except (OSError, EOFError, KeyError) as err:
        raise InputError(f"--weights: {shown} is not a readable .npz archive ({type(err).__name__})") from None


def _numeric(arr, where) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"{where}: expected real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)     # float16/32 and integers are exact in float64


def _load_pt(path: Path, shown: str) -> dict:
    import pickle

    import torch

    try:
        with warnings.catch_warnings():           # torch warns on stderr: the one line is ours
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, AttributeError) as err:
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise InputError(f"--weights: {shown} is not a state dict that torch.load(weights_only=True) "
                         f"can read ({first})") from None
    if not isinstance(data, dict):
        raise InputError(f"--weights: {shown} must hold a state dict (a mapping of names to tensors), "
                         f"got {type(data).__name__}")
    out = {}
    for key, value in data.items():
        where = f"--weights: {shown}: {quote(key)}"
        if isinstance(value, torch.Tensor):
            if value.is_complex() or value.dtype == torch.bool:
                raise InputError(f"{where}: expected real numbers, got dtype {value.dtype}")
            out[str(key)] = value.detach().to(torch.float64).cpu().numpy()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[str(key)] = np.asarray(float(value))
        else:
            raise InputError(f"{where}: expected a tensor, got {type(value).__name__}")
    return out


def load_weights(path_text: str) -> dict:
    """name -> array for a weights file (see the module docstring); InputError on any problem."""
    if path_text is None or not str(path_text).strip():
        raise InputError("--weights: the path is empty")
    path = Path(path_text)
    shown = quote(path_text)
    if not path.is_file():
        raise InputError(f"--weights: no such file: {shown}")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"--weights: {shown} must end in {', '.join(SUFFIXES)} (numpy archive, torch state "
                         "dict or JSON)")
    if path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise InputError(f"--weights: {shown} is larger than {MAX_WEIGHTS_BYTES // 2**20} MiB; a one-layer "
                         "LSA's weights are far smaller")
    if suffix == ".json":
        return _load_json(path, shown)
    if suffix == ".npz":
        return _load_npz(path, shown)
    return _load_pt(path, shown)


def exact_array(arr, name: str, shape: tuple) -> np.ndarray:
    """An object array of exact Fractions with the given shape (a (k,) vector may come as (k, 1)).

    float64 entries become the exact rational of their binary value; NaN / infinity refused."""
    arr = np.asarray(arr, dtype=object if np.asarray(arr).dtype == object else np.float64)
    if arr.shape != shape:
        if len(shape) == 1 and arr.shape == (shape[0], 1):
            arr = arr.reshape(shape)
        else:
            want = "x".join(map(str, shape)) if len(shape) > 1 else f"{shape[0]} (a vector)"
            got = "x".join(map(str, arr.shape)) if arr.ndim else "a scalar"
            raise InputError(f"weight {name!r}: must be {want}, got {got}")
    out = np.empty(shape, dtype=object)
    for index, x in np.ndenumerate(arr):
        if isinstance(x, Fraction):
            out[index] = x
            continue
        x = float(x)
        if not math.isfinite(x):
            where = "[" + ",".join(str(i + 1) for i in index) + "]"
            raise InputError(f"weight {name!r}{where}: {x!r} is not a finite number")
        out[index] = Fraction(x)
    return out


__all__ = ["load_weights", "exact_array", "SUFFIXES", "MAX_WEIGHTS_BYTES"]
