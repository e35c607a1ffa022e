"""The sandbox's result channel: signed lines on a pipe from the child to the checker.

The child writes one line per message::

    <HMAC-SHA256 of the payload, 64 hex digits> <the payload: base64 of a JSON object>\\n

with a secret the checker makes for each run and hands to the child on its stdin (never in
its arguments or environment, which the learner's code and its subprocesses can read). The
checker reads at most ``MAX_TOTAL`` bytes, at most ``MAX_LINE`` per line, and stops at the
first line that is too long, unsigned, or not the JSON object it expects: what the
learner's code prints or writes cannot pass for a result, and cannot make the checker
crash or swallow memory.

Arrays travel as ``.npy`` bytes (base64 in the JSON), read with ``allow_pickle=False``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import os
import secrets

import numpy as np

__all__ = ["MAX_LINE", "MAX_TOTAL", "ChannelError", "Reader", "encode", "new_secret"]

MAX_LINE = 8 * 2**20  # bytes in one message (a case's outputs)
MAX_TOTAL = 64 * 2**20  # bytes in a whole check
_DIGEST_HEX = 64


class ChannelError(ValueError):
    """The channel held something the child's own code did not write."""


def new_secret() -> bytes:
    return secrets.token_bytes(32)


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest().encode("ascii")


def encode(secret: bytes, message: dict) -> bytes:
    """One signed line carrying ``message`` (JSON-ready values; arrays via ``array_text``)."""
    payload = base64.b64encode(json.dumps(message, allow_nan=False).encode("utf-8"))
    return _signature(secret, payload) + b" " + payload + b"\n"


def array_text(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    # np.asarray, not np.ascontiguousarray: that one makes a number (shape ()) an array of
    # shape (1,), and a right loss then failed as "shape (1,) where () is asked"
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def text_array(text: object) -> np.ndarray:
    if not isinstance(text, str):
        raise ChannelError("an output that is not an encoded array")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, binascii.Error, EOFError, OSError) as exc:
        raise ChannelError(f"an output that is not a number array ({exc})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ChannelError("an output that is not a number array")
    return array


class Reader:
    """Collects the messages of one run from the read end of the pipe, within the limits."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._pending = bytearray()
        self.total = 0
        self.messages: list[dict] = []
        self.error = ""  # why the channel was abandoned; empty while it is sound

    def feed(self, chunk: bytes) -> None:
        """Take the bytes just read; complete lines become messages."""
        self.total += len(chunk)
        if self.error:
            return  # drained and dropped: the writer must not block, the reader keeps nothing
        if self.total > MAX_TOTAL:
            self._abandon(f"more than {MAX_TOTAL // 2**20} MB of results")
            return
        self._pending += chunk
        while not self.error:
            end = self._pending.find(b"\n")
            if end < 0:
                if len(self._pending) > MAX_LINE:
                    self._abandon(f"a message longer than {MAX_LINE // 2**20} MB")
                return
            line = bytes(self._pending[:end])
            del self._pending[: end + 1]
            try:
                self.messages.append(self._parse(line))
            except ChannelError as exc:
                self._abandon(str(exc))

    def close(self) -> None:
        """The end of the stream: bytes after the last newline were cut short, and dropped."""
        self._pending.clear()

    def _abandon(self, why: str) -> None:
        self.error = why
        self._pending = bytearray()

    def _parse(self, line: bytes) -> dict:
        signature, _, payload = line.partition(b" ")
        if len(signature) != _DIGEST_HEX or not hmac.compare_digest(
            signature, _signature(self._secret, payload)
        ):
            raise ChannelError("a line the checker's child did not write")
        try:
            message = json.loads(base64.b64decode(payload, validate=True))
        except (ValueError, binascii.Error, RecursionError):
            raise ChannelError("a signed line that is not JSON") from None
        if not isinstance(message, dict) or not isinstance(message.get("event"), str):
            raise ChannelError("a message without an event")
        return message


def read_into(reader: Reader, fd: int, size: int = 2**16) -> bool:
    """Read what is available on ``fd`` into ``reader``; False at the end of the stream."""
    chunk = os.read(fd, size)
    if not chunk:
        reader.close()
        return False
    reader.feed(chunk)
    return True
