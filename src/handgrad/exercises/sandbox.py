"""Running a learner's file safely: a child process with a wall clock and resource limits.

The child (``handgrad.exercises._child``) loads the file, runs every case and sends the
outcomes back as signed lines on a pipe (``_channel``); this process reads them within size
limits and judges them against the references it computes itself. The child works in a
temporary folder of its own (removed afterwards), under limits on address space, CPU time
and file size; when the check ends, pass or fail, every process the answer started is
killed: its process group, and any process that left the group but still carries the run's
mark in its environment. An endless loop, a crash, ``sys.exit``, megabytes of printing, a
syntax error, a missing import, a subprocess left running or bytes written into the
channel each end as a clear report; the learner's file is only read.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import _channel
from .catalogue import Exercise
from .checking import judge, not_run_after, settle
from .result import CaseResult, CheckResult
from .running import Outcome, printable

__all__ = ["check_file", "MEMORY_MB"]

MEMORY_MB = 2048  # address space for the child: NumPy and BLAS need a few hundred MB of it
RUN_MARK = "HANDGRAD_SANDBOX_RUN"  # environment variable carrying the run's random mark
STDERR_TAIL = 2000  # bytes of the child's own stderr shown when it died before reporting


def _stat_fields(pid: int) -> list[bytes]:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()
    except OSError:
        return []


def _is_running(pid: int) -> bool:
    """False once ``pid`` is gone or a zombie (dead, waiting for its parent to reap it)."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] not in (b"Z", b"X")


def _run_processes(group: int, mark: str) -> set[int]:
    """Running processes (Linux /proc) in process group ``group`` or carrying the run's mark."""
    needle = f"{RUN_MARK}={mark}".encode()
    found: set[int] = set()
    try:
        entries = [int(e) for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return found
    for pid in entries:
        fields = _stat_fields(pid)
        if pid == os.getpid() or not fields or fields[0] in (b"Z", b"X"):
            continue
        if fields[2] == str(group).encode():
            found.add(pid)
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
        except OSError:  # gone, or another user's
            continue
        if needle in environ.split(b"\0"):
            found.add(pid)
    return found


def _kill_everything(child: subprocess.Popen, mark: str) -> None:
    """SIGKILL the child's process group and every process carrying the run's mark.

    Returns once none of them runs any more (each is gone or a zombie); a process that
    left the group and cleared its environment is beyond reach (see the threat model)."""
    killed: set[int] = set()
    for _ in range(10000):  # a process forking as fast as it can is caught within a few rounds
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        found = _run_processes(child.pid, mark)
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        killed = {pid for pid in killed | found if _is_running(pid)}
        if not killed:
            break
        time.sleep(0.001)  # let the killed ones die before looking again
    if child.returncode is None:
        child.wait()


def _has_exited(child: subprocess.Popen) -> bool:
    """True once the child has exited, without reaping it: while it is a zombie its pid,
    the id of its process group, cannot be given to another process before we kill the
    group."""
    if child.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except (AttributeError, ChildProcessError, OSError):  # no waitid: reap it
        return child.poll() is not None


def _watch(child: subprocess.Popen, fd: int, reader: _channel.Reader, seconds: float) -> bool:
    """Read the channel until the child ends, the channel is abandoned (nothing the child
    does next can be read: it is stopped at once) or the wall clock runs out; True on
    time-out."""
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        open_channel = True
        while not _has_exited(child) and not reader.error:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if not open_channel:  # every writer is gone: wait for the exit alone
                time.sleep(min(left, 0.01))
            elif selector.select(timeout=min(left, 0.05)) and not _channel.read_into(reader, fd):
                open_channel = False
    return False


def _drain(fd: int, reader: _channel.Reader) -> None:
    """Read what is left once every writer is dead (or give up after a quiet second)."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while selector.select(timeout=1.0):
            if not _channel.read_into(reader, fd):
                return


def check_file(
    exercise: Exercise,
    path: str | os.PathLike,
    *,
    timeout: float | None = None,
    memory_mb: int = MEMORY_MB,
) -> CheckResult:
    """Check the answer in the Python file ``path`` in a sandboxed child process."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    seconds = float(timeout if timeout is not None else exercise.timeout)
    secret = _channel.new_secret()
    mark = os.urandom(16).hex()
    workdir = Path(tempfile.mkdtemp(prefix="handgrad-exercise-"))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ next to the learner's files
    env["TMPDIR"] = str(workdir)
    env[RUN_MARK] = mark
    # the child runs elsewhere (cwd): it imports this very handgrad, whatever PYTHONPATH says
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    read_end, write_end = os.pipe()
    reader = _channel.Reader(secret)
    command = [
        sys.executable,
        "-m",
        "handgrad.exercises._child",
        exercise.name,
        str(path.resolve()),
        str(memory_mb),
        str(seconds),
        str(write_end),
    ]
    try:
        with open(workdir / ".stderr", "wb") as err:
            child = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
                cwd=str(workdir),
                pass_fds=(write_end,),
                start_new_session=True,  # its own process group, stopped as a whole
            )
        os.close(write_end)
        write_end = -1
        try:
            assert child.stdin is not None
            child.stdin.write(secret.hex().encode("ascii") + b"\n")
            child.stdin.close()
        except BrokenPipeError:  # the child died at start; its exit status says how
            pass
        try:
            timed_out = _watch(child, read_end, reader, seconds)
        finally:
            _kill_everything(child, mark)
        _drain(read_end, reader)
        return _collect(exercise, reader, child.returncode, timed_out, seconds, workdir)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
        shutil.rmtree(workdir, ignore_errors=True)


def _stopped_message(returncode: int | None, timed_out: bool, seconds: float) -> str:
    if timed_out:
        return (
            f"did not finish within {seconds:g} s (an endless loop, or a recursion with no "
            "end?); it was stopped"
        )
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        why = {
            "SIGXCPU": "used too much CPU time",
            "SIGXFSZ": "wrote too large a file",
            "SIGSEGV": "crashed: a recursion deeper than the stack (after "
            "sys.setrecursionlimit), or a crash in compiled code",
        }.get(name, "crashed")
        return f"the process {why} ({name})"
    return f"the process ended early (exit status {returncode}), e.g. through os._exit"


def _ignored(value: object) -> dict[str, list[str]]:
    """The ``ignored`` field: output -> the inputs that did not change it."""
    if not isinstance(value, dict) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in value.values()
    ):
        raise _channel.ChannelError("a case's ignored inputs that are not lists of names")
    return {printable(str(k)): [printable(i) for i in v] for k, v in value.items()}


def _outcome(message: dict) -> Outcome:
    """An ``end`` message as an Outcome; ChannelError when a field has the wrong type."""

    def strings(value: object, what: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _channel.ChannelError(f"a case's {what} that is not a list of text")
        return [printable(v) for v in value]

    status, error, bad = message.get("status"), message.get("error"), message.get("bad_outputs")
    outputs = message.get("outputs")
    if status not in ("ok", "error", "timeout") or not isinstance(error, str):
        raise _channel.ChannelError("a case's status that the checker does not know")
    if not isinstance(bad, dict) or not all(isinstance(v, str) for v in bad.values()):
        raise _channel.ChannelError("a case's unusable outputs that are not text")
    if not isinstance(outputs, dict):
        raise _channel.ChannelError("a case's outputs that are not a mapping")
    return Outcome(
        status,
        printable(error),
        outputs={str(k): _channel.text_array(v) for k, v in outputs.items()},
        bad_outputs={printable(str(k)): printable(v) for k, v in bad.items()},
        mutated=strings(message.get("mutated"), "changed inputs"),
        listed=strings(message.get("listed"), "outputs returned as lists"),
        ignored=_ignored(message.get("ignored")),
        warnings=strings(message.get("warnings"), "warnings"),
    )


def _events(messages: list[dict], n_cases: int) -> tuple[str, str, dict[int, Outcome], int | None]:
    """The problem, the printed output, finished cases by index, a case started unfinished."""
    problem, output = "", ""
    ended: dict[int, Outcome] = {}
    started: int | None = None
    for message in messages:
        event = message["event"]
        index = message.get("index")
        if event in ("start", "end") and (
            not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < n_cases
        ):
            raise _channel.ChannelError(f"a case index out of range: {index!r}")
        if event == "problem" and isinstance(message.get("problem"), str):
            problem = printable(message["problem"])
        elif event == "output" and isinstance(message.get("text"), str):
            output = printable(message["text"])
        elif event == "start":
            started = index
        elif event == "end":
            ended[index] = _outcome(message)  # type: ignore[index]
        else:
            raise _channel.ChannelError(f"a message the checker does not know: {event!r}")
    unfinished = started if started is not None and started not in ended else None
    return problem, output, ended, unfinished


def _stderr_tail(workdir: Path) -> str:
    try:
        with open(workdir / ".stderr", "rb") as f:
            f.seek(max(f.seek(0, os.SEEK_END) - STDERR_TAIL, 0))
            lines = f.read().decode("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return printable(lines[-1]) if lines else ""


def _collect(
    exercise: Exercise,
    reader: _channel.Reader,
    returncode: int | None,
    timed_out: bool,
    seconds: float,
    workdir: Path,
) -> CheckResult:
    result = CheckResult(exercise.name, [], doc=exercise.doc)
    cases = list(exercise.cases())
    try:
        if reader.error:
            raise _channel.ChannelError(reader.error)
        problem, result.output, ended, unfinished = _events(reader.messages, len(cases))
    except _channel.ChannelError as exc:
        result.problem = (
            f"the results could not be read: {exc} (did the answer write into the "
            "checker's channel, or print from a process it started?)"
        )
        return result
    if problem:
        result.problem = problem
        return result
    stopped = _stopped_message(returncode, timed_out, seconds)
    if not ended and unfinished is None and (timed_out or returncode != 0):
        tail = _stderr_tail(workdir) if not reader.messages and not timed_out else ""
        result.problem = f"loading the file: {stopped}" + (f" ({tail})" if tail else "")
        return result
    for index, case in enumerate(cases):
        if index in ended:
            result.cases.append(judge(exercise, case, ended[index]))
        elif index == unfinished:
            result.cases.append(CaseResult(case.name, False, [], stopped))
        elif timed_out and unfinished is not None:
            hung = cases[unfinished].name
            result.cases.append(CaseResult(case.name, False, [], not_run_after(hung)))
        else:
            result.cases.append(
                CaseResult(case.name, False, [], "not run: the process had stopped")
            )
    return settle(exercise, result)
