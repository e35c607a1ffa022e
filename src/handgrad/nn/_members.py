"""Reading the members of a model or checkpoint file (a zip of .npy arrays) without trusting
them: each member listed once, stored uncompressed (its size on disk is the size read, so
no member expands beyond the file), its .npy header read and checked before its data, and
JSON of bounded depth. Everything here raises ValueError, or one of ``CORRUPT``.
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

__all__ = [
    "CORRUPT",
    "MAX_JSON_DEPTH",
    "check_json_depth",
    "members_by_name",
    "read_exact",
    "read_json_member",
    "read_npy_header",
    "read_number_array",
    "stored_size",
]

MAX_JSON_DEPTH = 64  # nesting of dicts and lists in a JSON member
_MAX_NPY_HEADER = 10_000  # bytes of an .npy header (NumPy's own default limit)

# What zipfile, the .npy header parser and json raise on damaged or crafted input.
CORRUPT = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # an unknown compression method
    RuntimeError,  # an encrypted member; RecursionError from deeply nested JSON
    OSError,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    OverflowError,
    SyntaxError,  # a malformed .npy header dictionary (tokenize's TokenError is an Exception)
    UnicodeDecodeError,
    struct.error,
    MemoryError,
)


def members_by_name(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """{name: info} of the archive's members; ValueError if a name appears twice (which of
    the two a reader would take is anyone's guess)."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if info.filename in members:
            raise ValueError(f"the member {info.filename!r} appears twice: crafted or damaged")
        members[info.filename] = info
    return members


def stored_size(info: zipfile.ZipInfo) -> int:
    """The member's size; only uncompressed members are accepted (size on disk = size read)."""
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise ValueError(
            f"the member {info.filename!r} is compressed; handgrad files store arrays uncompressed"
        )
    return info.file_size


def read_npy_header(fh: IO[bytes], what: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from an .npy header, reading the header only."""
    version = npy_format.read_magic(fh)
    try:
        if version == (1, 0):
            return npy_format.read_array_header_1_0(fh, max_header_size=_MAX_NPY_HEADER)
        if version == (2, 0):
            return npy_format.read_array_header_2_0(fh, max_header_size=_MAX_NPY_HEADER)
    except ValueError:
        raise
    except Exception as exc:  # the header's parser: tokenize.TokenError, MemoryError, ...
        raise ValueError(f"{what} has a malformed .npy header ({type(exc).__name__})") from None
    raise ValueError(f"{what} has an unsupported .npy version {version}")


def read_exact(fh: IO[bytes], info: zipfile.ZipInfo, nbytes: int, what: str) -> bytes:
    """The ``nbytes`` of data after the header, which must end the member exactly."""
    if info.file_size != fh.tell() + nbytes:
        raise ValueError(
            f"{what} is {info.file_size} bytes but its header announces {fh.tell() + nbytes}"
        )
    data = fh.read(nbytes)
    if len(data) != nbytes or fh.read(1):  # reading to the end checks the CRC
        raise ValueError(f"{what} is truncated")
    return data


def read_number_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> np.ndarray:
    """Any array of plain numbers (bool, int, float) that its uncompressed member holds."""
    stored_size(info)
    with zf.open(info) as fh:
        shape, fortran, dtype = read_npy_header(fh, what)
        if dtype.kind not in "biuf" or dtype.hasobject:
            raise ValueError(f"{what} holds {dtype}, not numbers")
        data = read_exact(fh, info, math.prod(shape) * dtype.itemsize, what)
    flat: np.ndarray = np.frombuffer(data, dtype=dtype)
    array: np.ndarray = flat.reshape(shape, order="F" if fortran else "C").copy()
    return array


def read_json_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str, max_bytes: int
) -> Any:  # any JSON value
    """The JSON held by a member that is a 0-d unicode array: size-capped, bounded depth."""
    if info.file_size > max_bytes:
        raise ValueError(f"{what} is {info.file_size} bytes, above the limit of {max_bytes}")
    stored_size(info)
    with zf.open(info) as fh:
        shape, _, dtype = read_npy_header(fh, what)
        if shape != () or dtype.kind != "U":
            raise ValueError(f"{what} is not a JSON string (shape {shape}, dtype {dtype})")
        data = read_exact(fh, info, dtype.itemsize, what)
    text = str(np.frombuffer(data, dtype=dtype)[0])
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON ({exc})") from None
    check_json_depth(value, what)
    return value


def check_json_depth(value: Any, what: str, limit: int = MAX_JSON_DEPTH) -> None:
    """ValueError if dicts/lists nest deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                raise ValueError(f"{what} nests deeper than {limit} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
