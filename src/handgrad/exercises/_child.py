"""The sandbox's child process: load a learner's file, run every case, report the outcomes.

    python -m handgrad.exercises._child NAME FILE MEMORY_MB SECONDS CHANNEL_FD

The first line of stdin is the run's secret (hex); stdin is then closed. Every report goes
to the pipe ``CHANNEL_FD`` as a signed line (see ``_channel``): a ``start`` and an ``end``
message per case (the outputs as ``.npy`` number arrays), ``problem`` when the file cannot
be loaded, and ``output`` (what the learner's code printed, capped) at the end. The
descriptor is not inherited by programs the learner's code starts, and a line that does
not carry the secret's signature is refused by the checker.
"""

from __future__ import annotations

import io
import os
import sys

from ._channel import MAX_LINE, array_text, encode

OUTPUT_CAP = 4000  # characters of the learner's printing that are kept
FILE_SIZE_MB = 16  # the largest file the learner's code may write


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_CAP characters and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = OUTPUT_CAP - self.size
        if room > 0:
            self.kept.append(text[:room])
        self.size += len(text)
        return len(text)

    def text(self) -> str:
        out = "".join(self.kept)
        if self.size > OUTPUT_CAP:
            out += f"\n... ({self.size - OUTPUT_CAP} more characters not shown)"
        return out


def _limit_resources(memory_mb: int, seconds: float) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the parent's wall clock still applies
        return
    limits = [
        (resource.RLIMIT_AS, memory_mb * 2**20),
        (resource.RLIMIT_CPU, int(seconds) + 2),
        (resource.RLIMIT_FSIZE, FILE_SIZE_MB * 2**20),
        (resource.RLIMIT_CORE, 0),
    ]
    for what, value in limits:
        soft, hard = resource.getrlimit(what)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(what, (value, hard))
        except (ValueError, OSError):
            pass


class _Channel:
    """The signed lines to the checker, written whole with ``os.write``."""

    def __init__(self, fd: int, secret: bytes) -> None:
        os.set_inheritable(fd, False)  # programs the answer starts do not get it
        self._fd = fd
        self._secret = secret

    def send(self, message: dict) -> None:
        data = memoryview(encode(self._secret, message))
        while data:
            data = data[os.write(self._fd, data) :]


def _read_secret() -> bytes:
    """The run's secret from stdin's first line; stdin then becomes /dev/null."""
    secret = bytes.fromhex(sys.stdin.buffer.readline().decode("ascii").strip())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return secret


def _end_message(index: int, outcome) -> dict:
    message = {
        "event": "end",
        "index": index,
        "status": outcome.status,
        "error": outcome.error,
        "bad_outputs": dict(outcome.bad_outputs),
        "mutated": list(outcome.mutated),
        "listed": list(outcome.listed),
        "ignored": {k: list(v) for k, v in outcome.ignored.items()},
        "warnings": list(outcome.warnings),
        "outputs": {k: array_text(v) for k, v in outcome.outputs.items()},
    }
    if sum(len(v) for v in message["outputs"].values()) > MAX_LINE // 2:
        for key, value in outcome.outputs.items():
            message["bad_outputs"][key] = (
                f"returned an array of {value.nbytes} bytes, too large to check"
            )
        message["outputs"] = {}
    return message


def main(argv: list[str]) -> int:
    name, path, memory_mb, seconds, channel_fd = argv
    channel = _Channel(int(channel_fd), _read_secret())
    _limit_resources(int(memory_mb), float(seconds))

    from .catalogue import get
    from .running import describe_error, run_case

    exercise = get(name)
    printed = _CappedText()
    sys.stdout = sys.stderr = printed  # the learner's printing goes to the cap, not a pipe
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        import runpy

        try:
            namespace = runpy.run_path(path, run_name="__handgrad_exercise__")
        except SyntaxError as exc:
            problem = f"syntax error at line {exc.lineno}: {exc.msg}"
            channel.send({"event": "problem", "problem": problem})
            return 0
        except BaseException as exc:  # an import that fails, sys.exit at load, ...
            problem = f"loading the file {describe_error(exc, path)}"
            channel.send({"event": "problem", "problem": problem})
            return 0
        missing = [e for e in exercise.entries if e not in namespace]
        if missing:
            problem = f"the file does not define {', '.join(missing)}"
            channel.send({"event": "problem", "problem": problem})
            return 0
        for index, case in enumerate(exercise.cases()):
            channel.send({"event": "start", "index": index})
            outcome = run_case(
                exercise, namespace, case, None, filename=path, memory_mb=int(memory_mb)
            )
            channel.send(_end_message(index, outcome))
    finally:
        channel.send({"event": "output", "text": printed.text()})
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    os._exit(code)  # skip interpreter teardown: the learner's objects may misbehave in it
