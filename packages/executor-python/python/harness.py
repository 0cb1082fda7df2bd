"""stepcoder fork-server harness (Python 3.8+, POSIX).

One long-lived worker per pool slot. The Node parent writes one job per line (JSON) on stdin;
the worker forks one child per PROGRAM (not per test). The child applies rlimits, moves to a new
session, a fresh temp dir and a scrubbed environment, compiles the candidate once, runs every test
and streams one JSON record per test over a dedicated pipe. The worker relays those records to
its stdout prefixed with ``C`` (untrusted: written by a process that ran candidate code) and adds
its own events prefixed with ``W`` (start with the child's pid, exit with its wait status).

The child reports raw facts only (stdout text, the return value as JSON, exception type and
message). It never sees expected outputs and never decides a verdict: the Node parent compares.
Wall timeouts are enforced by the Node parent, which kills the child's process group.
"""

import os
import sys

# The script's own folder must not shadow the standard library or the candidate's imports.
if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import ast
import builtins
import dis
import io
import json
import resource
import select
import shutil
import signal
import tempfile
import threading
import time
import types

try:
    import ctypes
except ImportError:  # a Python built without ctypes: no subreaper, no capability-keeping drop
    ctypes = None

# Every builtin the harness uses resolves through these module globals, captured before any
# candidate runs: a candidate that patches `builtins.len` or `builtins.isinstance` cannot change
# what the harness does.
globals().update({k: v for k, v in vars(builtins).items() if not k.startswith("__")})


def _load_sibling(name):
    """A module shipped next to this script (its folder is not on sys.path, see above)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    spec = importlib.util.spec_from_file_location("stepcoder_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


line_counters = _load_sibling("line_counters")

CANDIDATE = "<candidate>"
FLOAT_KEY = "$$float"

_write = os.write
_read = os.read
_pread = os.pread
_fstat = os.fstat
_ftruncate = os.ftruncate
_lseek = os.lseek
_dup2 = os.dup2
_exit = os._exit
_close = os.close
_perf = time.perf_counter
_settrace = sys.settrace
_getrec = sys.getrecursionlimit
_setrec = sys.setrecursionlimit
_esc = json.encoder.encode_basestring_ascii
_int_repr = int.__repr__
_float_repr = float.__repr__
_str_str = str.__str__
_dict_items = dict.items
_list_iter = list.__iter__
_tuple_iter = tuple.__iter__
_join = "".join
_ModuleType = types.ModuleType
_modules = sys.modules


# ------------------------------------------------------------------------------------------------
# Encoding records without trusting anything the candidate can reach
# ------------------------------------------------------------------------------------------------


class Unserializable(Exception):
    pass


class Raw:
    """Already-encoded JSON text, embedded as is."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


def _enc(v, out, depth, room):
    """Append the JSON of `v` to `out`; `room[0]` is the number of characters still allowed."""
    if depth > 200:
        raise Unserializable("value is nested more than 200 levels deep")
    if room[0] < 0:
        raise Unserializable("value is larger than %d bytes of JSON" % room[1])
    t = type(v)
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif t is Raw:
        out.append(v.text)
    elif isinstance(v, int):
        try:
            out.append(_int_repr(v))
        except ValueError:
            raise Unserializable("integer too large to print")
        room[0] -= len(out[-1])
    elif isinstance(v, float):
        if v != v:
            out.append('{"' + FLOAT_KEY + '":"nan"}')
        elif v in (float("inf"), float("-inf")):
            out.append('{"' + FLOAT_KEY + '":"' + ("inf" if v > 0 else "-inf") + '"}')
        else:
            out.append(_float_repr(v))
    elif isinstance(v, str):
        if len(v) > room[0]:
            raise Unserializable("value is larger than %d bytes of JSON" % room[1])
        out.append(_esc(_str_str(v)))
        room[0] -= len(out[-1])
    elif isinstance(v, (list, tuple)):
        out.append("[")
        first = True
        for item in _list_iter(v) if isinstance(v, list) else _tuple_iter(v):
            if not first:
                out.append(",")
            first = False
            room[0] -= 1
            _enc(item, out, depth + 1, room)
        out.append("]")
    elif isinstance(v, dict):
        out.append("{")
        first = True
        for key, item in _dict_items(v):
            if not first:
                out.append(",")
            first = False
            if isinstance(key, str):
                out.append(_esc(_str_str(key)))
            elif key is None or key is True or key is False:
                out.append('"' + ("null" if key is None else "true" if key else "false") + '"')
            elif isinstance(key, int) or isinstance(key, float):
                out.append('"' + (_int_repr(key) if isinstance(key, int) else _float_repr(key)) + '"')
            else:
                raise Unserializable("dict key of type " + type(key).__name__ + " is not JSON")
            out.append(":")
            room[0] -= len(out[-2]) + 2
            _enc(item, out, depth + 1, room)
        out.append("}")
    else:
        raise Unserializable("value of type " + t.__name__ + " is not JSON-serialisable")


def encode(v, limit=1 << 62):
    """JSON text of a plain value; raises Unserializable past `limit` characters."""
    out = []
    _enc(v, out, 0, [limit, limit])
    if room_exceeded(out, limit):
        raise Unserializable("value is larger than %d bytes of JSON" % limit)
    return _join(out)


def room_exceeded(out, limit):
    n = 0
    for piece in out:
        n += len(piece)
        if n > limit:
            return True
    return False


def _revive(obj):
    if len(obj) == 1 and FLOAT_KEY in obj:
        return float(obj[FLOAT_KEY])
    return obj


# ------------------------------------------------------------------------------------------------
# Worker side
# ------------------------------------------------------------------------------------------------


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = _write(fd, view)
        view = view[n:]


def send_worker(event):
    write_all(1, ("W" + encode(event) + "\n").encode("ascii"))


_task_count_cache = [0.0, -1, 0]


def count_tasks(uid):
    """Tasks (threads included) of a user: RLIMIT_NPROC counts them all, per user, not per tree."""
    now = time.monotonic()
    if _task_count_cache[1] == uid and now - _task_count_cache[0] < 1.0:
        return _task_count_cache[2]
    n = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat("/proc/" + name).st_uid == uid:
                n += len(os.listdir("/proc/" + name + "/task"))
        except OSError:
            pass
    _task_count_cache[:] = [now, uid, n]
    return n


def become_subreaper():
    """Orphans of a candidate (double-forked daemons) are re-parented to the worker, which kills
    and reaps them after each job instead of leaving them to init."""
    try:
        return _LIBC.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except Exception:
        return False


def can_read_python_as(uid, gid):
    """Whether an unprivileged user can read this interpreter's library folders (a Python
    installed under /root, e.g. by pyenv, is invisible to `nobody`)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.stat(sys.executable)
            for path in sys.path:
                if path and os.path.isdir(path):
                    os.listdir(path)
            _exit(0)
        except BaseException:
            _exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


if ctypes is not None:
    _LIBC = ctypes.CDLL(None, use_errno=True)

    class _CapHeader(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class _CapData(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges(uid, gid, keep_read):
    """Become `uid`: RLIMIT_NPROC then applies (it never does to uid 0) and root-only files are
    closed. With `keep_read`, the child keeps CAP_DAC_READ_SEARCH only, so it can still import the
    interpreter's modules (and read, but not write, any file: documented in the README)."""
    if ctypes is None:
        raise OSError("ctypes is unavailable: cannot drop privileges safely")
    libc = _LIBC
    if keep_read and libc.prctl(8, 1, 0, 0, 0) != 0:  # PR_SET_KEEPCAPS
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_KEEPCAPS) failed")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if keep_read:
        header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
        data = (_CapData * 2)()
        data[0].effective = data[0].permitted = 1 << 2  # CAP_DAC_READ_SEARCH
        if libc.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset failed")
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: no regaining root through setuid binaries


def kill_orphans():
    path = "/proc/self/task/%d/children" % os.getpid()
    for _ in range(20):
        try:
            with open(path) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            pids = []
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break


class Stream:
    """One child's record pipe, relayed to stdout under a one-letter prefix: ``C`` for the
    candidate's process (untrusted), ``J`` for the judge's (trusted: it never runs candidate code
    and the candidate holds no descriptor of its pipe)."""

    def __init__(self, pid, fd, prefix):
        self.pid = pid
        self.fd = fd
        self.prefix = prefix
        self.buf = b""
        self.eof = False
        self.status = None
        self.overflow = False
        self.drain_deadline = None
        self.pidfd = None
        if hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(pid)
            except OSError:
                self.pidfd = None

    def finished(self, now):
        return self.status is not None and (self.eof or now >= self.drain_deadline)

    def reap(self, flags):
        wpid, st = os.waitpid(self.pid, flags)
        if wpid == self.pid:
            self.status = st
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
            # Descendants that escaped the group may hold the pipe open: drain briefly only.
            self.drain_deadline = time.monotonic() + 0.2

    def read(self, max_line):
        chunk = _read(self.fd, 1 << 16)
        if not chunk:
            self.eof = True
            return
        if self.overflow:
            return
        self.buf += chunk
        prefix = self.prefix
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                break
            write_all(1, prefix + self.buf[:nl] + b"\n")
            self.buf = self.buf[nl + 1 :]
        if len(self.buf) > max_line:
            self.overflow = True
            self.buf = b""
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass


KILL_COMMAND = b"kill"


class Commands:
    """The worker's stdin, read raw so that `pump` can watch it while a program runs: Node sends
    `kill` there, since inside a PID namespace the pids Node sees are not the children's."""

    def __init__(self):
        self.buf = b""
        self.eof = False

    def next_line(self):
        while b"\n" not in self.buf:
            chunk = _read(0, 1 << 16)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def poll_kill(self):
        """Read what is available; true when a kill was asked for (or Node went away)."""
        chunk = _read(0, 1 << 16)
        if not chunk:
            self.eof = True
            return True
        self.buf += chunk
        lines = self.buf.split(b"\n")
        kill = any(l.strip() == KILL_COMMAND for l in lines[:-1])
        self.buf = b"\n".join([l for l in lines[:-1] if l.strip() != KILL_COMMAND] + [lines[-1]])
        return kill


COMMANDS = Commands()


def pump(streams, max_line):
    """Relay the children's records until every child exited and its pipe closed (or was drained
    briefly after its exit)."""
    while True:
        now = time.monotonic()
        live = [s for s in streams if not s.finished(now)]
        if not live:
            break
        fds = []
        timeout = None
        for s in live:
            if not s.eof:
                fds.append(s.fd)
            if s.status is None:
                if s.pidfd is not None:
                    fds.append(s.pidfd)
                else:
                    timeout = 0.05
            elif not s.eof:
                left = s.drain_deadline - now
                timeout = left if timeout is None else min(timeout, left)
        if not COMMANDS.eof:
            fds.append(0)
        if not fds:
            # Every pipe closed but a child lives on: wait for it (the Node parent kills it at
            # its timeout).
            for s in live:
                if s.status is None:
                    s.reap(0)
            continue
        ready, _, _ = select.select(fds, [], [], max(timeout, 0) if timeout is not None else None)
        if 0 in ready and COMMANDS.poll_kill():
            for s in live:
                for target in (-s.pid, s.pid):
                    try:
                        os.kill(target, signal.SIGKILL)
                    except OSError:
                        pass
        for s in live:
            if s.status is None and (s.pidfd in ready if s.pidfd is not None else True):
                s.reap(0 if s.pidfd is not None else os.WNOHANG)
            if s.fd in ready:
                s.read(max_line)
    for s in streams:
        if s.pidfd is not None:
            _close(s.pidfd)


def exit_facts(stream):
    facts = {"overflow": stream.overflow}
    status = stream.status
    if status is not None:
        if os.WIFSIGNALED(status):
            facts["signal"] = os.WTERMSIG(status)
        elif os.WIFEXITED(status):
            facts["code"] = os.WEXITSTATUS(status)
    return facts


def fork_child(body, keep):
    """Fork; the child closes every descriptor but `keep` (plus 0-2), runs `body()` and exits."""
    pid = os.fork()
    if pid == 0:
        try:
            close_all_but(keep)
            body()
        finally:
            _exit(0)
    return pid


def close_all_but(keep):
    prev = 2
    for fd in sorted(set(keep)):
        if fd <= prev:
            continue
        if fd > prev + 1:
            os.closerange(prev + 1, fd)
        prev = fd
    os.closerange(prev + 1, 1 << 20)


def clean_folder(folder):
    """Empty a scratch folder of the sandbox (/tmp, /dev/shm): nothing a program leaves behind is
    seen by the next one."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def run_job(job, config):
    base = config.get("tmpDir") or None
    tmp = tempfile.mkdtemp(prefix="stepcoder-", dir=base)
    # Root is exempt from RLIMIT_NPROC and can read everything: children run as an unprivileged
    # user instead (nobody by default) when the worker itself is root.
    drop = config.get("runAs")
    judged = job["kind"] == "assert" and job.get("judge") == "process"
    pipes = []
    try:
        if drop:
            os.chown(tmp, drop[0], drop[1])
        nproc = count_tasks(drop[0] if drop else os.getuid()) + job["maxProcesses"] + 1
        rfd, wfd = os.pipe()
        pipes += [rfd, wfd]
        streams = []
        if judged:
            # The judge runs the test code with the candidate's functions as proxies; it talks to
            # the candidate over two pipes and reports verdicts over a third that only it holds.
            jr, jw = os.pipe()
            req_r, req_w = os.pipe()
            resp_r, resp_w = os.pipe()
            pipes += [jr, jw, req_r, req_w, resp_r, resp_w]
            judge_drop = [drop[0] - 1, drop[1], drop[2]] if drop else None
            jpid = fork_child(lambda: judge_main(job, jw, req_w, resp_r, judge_drop), [jw, req_w, resp_r])
            for fd in (jw, req_w, resp_r):
                _close(fd)
                pipes.remove(fd)
            pid = fork_child(lambda: child_main(job, wfd, tmp, nproc, drop, (req_r, resp_w)), [wfd, req_r, resp_w])
            streams.append(Stream(jpid, jr, b"J"))
        else:
            pid = fork_child(lambda: child_main(job, wfd, tmp, nproc, drop, None), [wfd])
        for fd in [p for p in pipes if p != rfd and not any(s.fd == p for s in streams)]:
            _close(fd)
            pipes.remove(fd)
        streams.insert(0, Stream(pid, rfd, b"C"))
        # No setpgid here: each child's setsid() makes it a group leader, and setsid fails in a
        # process that already leads a group. Node kills the pids as well as the groups.
        send_worker({"ev": "start", "pid": pid, "pids": [s.pid for s in streams]})
        pump(streams, job["maxRecordBytes"])
        if config.get("subreaper"):
            kill_orphans()
        for folder in config.get("scratch") or []:
            clean_folder(folder)
        event = dict({"ev": "exit"}, **exit_facts(streams[0]))
        if judged:
            event["judge"] = exit_facts(streams[1])
        send_worker(event)
    finally:
        for fd in pipes:
            try:
                _close(fd)
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# Child side: everything below runs in the forked child, after the candidate may have run
# ------------------------------------------------------------------------------------------------


class Reporter:
    def __init__(self, fd):
        self.fd = fd

    def send(self, record):
        try:
            data = (encode(record) + "\n").encode("ascii")
        except MemoryError:
            data = b'{"t":"oom"}\n'
        try:
            write_all(self.fd, data)
        except OSError:
            # The candidate closed or broke the pipe: missing records count as failures.
            _exit(3)


class CappedRaw(io.RawIOBase):
    """Raw writer on fd 1/2 that stops at the output cap, so a print loop ends quickly."""

    def __init__(self, fd, cap):
        self.fd = fd
        self.cap = cap
        self.size = 0

    def writable(self):
        return True

    def write(self, b):
        n = len(b)
        room = self.cap + 1 - self.size
        if room <= 0:
            raise OSError(27, "output limit exceeded (maxOutputBytes)")
        chunk = bytes(b[:room]) if n > room else b
        write_all(self.fd, chunk)
        self.size += len(chunk)
        return n


def make_memfd(name, tmp):
    if hasattr(os, "memfd_create"):
        return os.memfd_create(name)
    fd, path = tempfile.mkstemp(dir=tmp)
    os.unlink(path)
    return fd


def partial_utf8_tail(data):
    """Bytes at the end of `data` that start a UTF-8 sequence the cut left incomplete."""
    n = len(data)
    i = n - 1
    while i >= 0 and n - i <= 4 and 0x80 <= data[i] <= 0xBF:
        i -= 1
    if i < 0 or n - i > 4:
        return 0
    lead = data[i]
    need = 2 if 0xC0 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF7 else 1
    return n - i if n - i < need else 0


class Stdio:
    """Per-test stdin/stdout/stderr on real fds 0/1/2 (memfds), so `open(0)`, `os.write(1, …)` and
    subprocess output are seen too, with Python-level writers capped at `maxOutputBytes`."""

    def __init__(self, tmp, cap):
        self.cap = cap
        self.files = [make_memfd("stdin", tmp), make_memfd("stdout", tmp), make_memfd("stderr", tmp)]
        self.writers = []

    def begin(self, text):
        fin, fout, ferr = self.files
        _ftruncate(fin, 0)
        _lseek(fin, 0, 0)
        if text:
            write_all(fin, text.encode("utf-8", "surrogatepass"))
        _lseek(fin, 0, 0)
        for fd in (fout, ferr):
            _ftruncate(fd, 0)
            _lseek(fd, 0, 0)
        _dup2(fin, 0)
        _dup2(fout, 1)
        _dup2(ferr, 2)
        stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
        out = io.TextIOWrapper(
            io.BufferedWriter(CappedRaw(1, self.cap)), encoding="utf-8", errors="surrogateescape"
        )
        err = io.TextIOWrapper(
            io.BufferedWriter(CappedRaw(2, self.cap)),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=True,
        )
        self.writers = [out, err]
        sys.stdin = sys.__stdin__ = stdin
        sys.stdout = sys.__stdout__ = out
        sys.stderr = sys.__stderr__ = err

    def end(self):
        for w in self.writers:
            try:
                w.flush()
            except BaseException:
                pass
        texts = []
        cut = []
        for fd in self.files[1:]:
            try:
                size = _fstat(fd).st_size
                data = _pread(fd, self.cap, 0)
            except OSError:
                size, data = 0, b""
            # Per stream, so the parent can tell a cut stdout (never compared) from a cut stderr.
            cut.append(size > self.cap)
            if size > self.cap:
                data = data[: len(data) - partial_utf8_tail(data)]
            texts.append(data.decode("utf-8", "replace"))
        return texts[0], texts[1], cut[0], cut[1]


def describe(exc):
    """Exception type, message and the candidate line it was raised from."""
    info = {"type": type(exc).__name__}
    try:
        msg = str(exc)
    except BaseException:
        msg = "<unprintable>"
    info["msg"] = msg[:1000]
    if type(exc) is SystemExit:
        code = exc.code
        info["exit"] = code if code is None or isinstance(code, int) else str(code)[:200]
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == CANDIDATE:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and isinstance(exc, SyntaxError) and exc.filename == CANDIDATE:
        line = exc.lineno
    if line is not None:
        info["line"] = line
    return info


class Tracer:
    """Line events of the candidate's code objects only, with `sys.settrace` (the fallback, every
    Python up to 3.11).

    Counts are exact up to `cap` per line. Once every line of a code object has reached the cap,
    its frames stop being traced (the local trace function returns None) and new frames of it are
    not traced: hot loops then run at full speed, and counts above the cap are lower bounds. A
    line never executed keeps its code object traced, so the set of executed lines is exact."""

    def __init__(self, cap, code):
        cap = cap or float("inf")
        hits = {}
        self.hits = hits
        get = hits.get
        remaining = {}
        saturated = set()
        lines_of = code_own_lines

        def local(frame, event, arg):
            if event == "line":
                ln = frame.f_lineno
                count = get(ln, 0) + 1
                hits[ln] = count
                if count >= cap:
                    code = frame.f_code
                    left = remaining[code]
                    left.discard(ln)
                    if not left:
                        saturated.add(code)
                        return None
            return local

        def glob(frame, event, arg):
            code = frame.f_code
            if code.co_filename != CANDIDATE or code in saturated:
                return None
            if code not in remaining:
                remaining[code] = lines_of(code)
            return local

        self.glob = glob

    def start(self):
        threading.settrace(self.glob)
        _settrace(self.glob)

    def stop(self):
        _settrace(None)

    def take(self):
        out = {str(k): v for k, v in _dict_items(self.hits)}
        self.hits.clear()
        return out


class MonitoringTracer(Tracer):
    """The 3.12+ fast path (PEP 669): LINE events enabled only on the candidate's own code objects,
    so nothing else pays anything, and a location whose count reached `cap` is switched off with
    DISABLE (per line, not per function as with settrace). Same counts, same exact executed set."""

    def __init__(self, cap, code):
        cap = cap or float("inf")
        hits = {}
        self.hits = hits
        get = hits.get
        monitoring = sys.monitoring
        disable = monitoring.DISABLE
        tool = monitoring.COVERAGE_ID
        monitoring.use_tool_id(tool, "stepcoder")

        def on_line(code, line):
            count = get(line, 0) + 1
            hits[line] = count
            if count >= cap:
                return disable
            return None

        monitoring.register_callback(tool, monitoring.events.LINE, on_line)
        for each in candidate_code_objects(code):
            monitoring.set_local_events(tool, each, monitoring.events.LINE)

    def start(self):
        pass

    def stop(self):
        pass


def candidate_code_objects(code):
    out = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_filename == CANDIDATE:
            out.extend(candidate_code_objects(const))
    return out


class CounterTracer:
    """Line events counted by increments compiled into the candidate (see line_counters.py): no
    trace function, so nothing else slows down. The default up to Python 3.11, where settrace
    costs 2-7x on loop-heavy programs. `code` is the instrumented program to run instead."""

    def __init__(self, tree, exe):
        self.slots = line_counters.instrument(tree, exe)
        self.code = compile(tree, CANDIDATE, "exec", dont_inherit=True)
        self.hits = [0] * len(self.slots)
        # A builtin, not a global of the program: `globals()` and `dir()` stay as without coverage,
        # and the lookup is as fast (LOAD_GLOBAL specialises for builtins too).
        vars(builtins)[line_counters.HITS] = self.hits

    def start(self):
        pass

    def stop(self):
        pass

    def take(self):
        hits = self.hits
        counts = {}
        # The list is reachable from candidate code: read it as untrusted (the parent checks again).
        for slot, credits in enumerate(self.slots):
            try:
                n = hits[slot]
            except Exception:
                break
            if type(n) is int and n > 0:
                for line, weight in credits:
                    counts[line] = counts.get(line, 0) + n * weight
        hits[:] = [0] * len(self.slots)
        return {str(k): v for k, v in _dict_items(counts) if v > 0}


def make_tracer(job, tree, code, exe):
    """`coverageBackend`: "trace" = sys.monitoring (3.12+) or sys.settrace; "counters" = compiled-in
    counters; "auto" = sys.monitoring where it exists, counters below 3.12."""
    backend = job.get("coverageBackend", "auto")
    cap = job.get("hitCap", 0)
    if backend == "counters" or (backend == "auto" and not hasattr(sys, "monitoring")):
        try:
            return CounterTracer(tree, exe)
        except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
            pass  # a program the instrumenter cannot rewrite still gets (slower) exact coverage
    if hasattr(sys, "monitoring"):
        try:
            return MonitoringTracer(cap, code)
        except (ValueError, AttributeError):
            pass  # the tool id is taken: fall back to settrace
    return Tracer(cap, code)


def code_own_lines(code):
    """Lines that produce line events in frames of `code` (not its nested code objects). The
    first line of a function is its `def` (or decorator), which runs in the enclosing code."""
    lines = set()
    if hasattr(code, "co_lines"):
        for _, _, line in code.co_lines():
            if line:
                lines.add(line)
    else:
        for _, line in dis.findlinestarts(code):
            if line:
                lines.add(line)
    if code.co_name != "<module>":
        lines.discard(code.co_firstlineno)
    return lines


def code_lines(code, out):
    if code.co_filename != CANDIDATE:
        return
    if hasattr(code, "co_lines"):
        for _, _, line in code.co_lines():
            if line:
                out.add(line)
    else:
        for _, line in dis.findlinestarts(code):
            if line:
                out.add(line)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            code_lines(const, out)


COMPOUND = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
)


def static_coverage(tree, exe):
    """Executable lines, statements and branch arms of the candidate. Hit counts are filled in
    by the parent from line events: each statement/arm names the lines that probe it."""

    def first_line(node):
        decorators = getattr(node, "decorator_list", None)
        return min([node.lineno] + [d.lineno for d in decorators]) if decorators else node.lineno

    def start_of(node):
        decorators = getattr(node, "decorator_list", None)
        if decorators:
            first = min(decorators, key=lambda d: (d.lineno, d.col_offset))
            # The `@` sits one column before the decorator expression.
            return first.lineno, max(first.col_offset - 1, 0)
        return node.lineno, node.col_offset

    def header_lines(node):
        if isinstance(node, COMPOUND) and node.body and node.body[0].lineno > node.lineno:
            last = node.body[0].lineno - 1
            # Docstrings and comments sit between header and body; the header ends at the colon.
            return range(first_line(node), last + 1)
        if isinstance(node, COMPOUND):
            return range(first_line(node), node.lineno + 1)
        return range(first_line(node), node.end_lineno + 1)

    def probe(node):
        lines = [ln for ln in header_lines(node) if ln in exe]
        if not lines and isinstance(node, COMPOUND) and node.body:
            return probe(node.body[0])
        return lines

    def arm_range(nodes):
        sl, sc = start_of(nodes[0])
        return [sl, sc, nodes[-1].end_lineno, nodes[-1].end_col_offset]

    statements = []
    branches = []

    def arm_of_block(nodes, header):
        p = probe(nodes[0])
        if not p or set(p) & set(header):
            # The arm shares its line with the header: line events cannot tell them apart.
            return {"range": arm_range(nodes), "p": header}
        return {"range": arm_range(nodes), "p": p}

    def implicit_arm(header, taken):
        if not taken.get("p") or taken["p"] is header:
            return {"p": header}
        return {"d": [header, taken["p"]]}

    def expr_arm(node, stmt_lines, exclusive_of):
        lines = set(range(node.lineno, node.end_lineno + 1))
        rng = [node.lineno, node.col_offset, node.end_lineno, node.end_col_offset]
        if lines & exclusive_of:
            return {"range": rng, "p": stmt_lines}
        p = sorted(ln for ln in lines if ln in exe)
        return {"range": rng, "p": p or stmt_lines}

    def visit(node, stmt):
        if isinstance(node, ast.stmt):
            stmt = node
            p = probe(node)
            if p:
                sl, sc = start_of(node)
                statements.append([sl, sc, node.end_lineno, node.end_col_offset, p])
            if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While)) and p:
                kind = "if" if isinstance(node, ast.If) else "while" if isinstance(node, ast.While) else "for"
                taken = arm_of_block(node.body, p) if node.body else {"p": p}
                other = arm_of_block(node.orelse, p) if node.orelse else implicit_arm(p, taken)
                branches.append({"kind": kind, "line": node.lineno, "arms": [taken, other]})
        elif isinstance(node, ast.IfExp) and stmt is not None:
            sp = probe(stmt) or [node.lineno]
            test_lines = set(range(node.test.lineno, node.test.end_lineno + 1))
            body_lines = set(range(node.body.lineno, node.body.end_lineno + 1))
            else_lines = set(range(node.orelse.lineno, node.orelse.end_lineno + 1))
            head = {stmt.lineno} | test_lines
            branches.append(
                {
                    "kind": "cond-expr",
                    "line": node.lineno,
                    "arms": [
                        expr_arm(node.body, sp, head | else_lines),
                        expr_arm(node.orelse, sp, head | body_lines),
                    ],
                }
            )
        for child in ast.iter_child_nodes(node):
            visit(child, stmt)

    visit(tree, None)
    return {"t": "static", "exe": sorted(exe), "stm": statements, "br": branches}


def apply_limits(job, nproc):
    mb = job["memoryMb"]
    limits = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, job["fileSizeMb"] * 1024 * 1024),
        (resource.RLIMIT_CPU, job["cpuSeconds"]),
        (resource.RLIMIT_NPROC, nproc),
    ]
    if mb > 0:
        limits.append((resource.RLIMIT_AS, mb * 1024 * 1024))
    for which, soft in limits:
        hard = soft + 1 if which == resource.RLIMIT_CPU else soft
        try:
            cur_soft, cur_hard = resource.getrlimit(which)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
                soft = min(soft, hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass


def child_main(job, wfd, tmp, nproc, drop, rpc):
    rep = Reporter(wfd)
    try:
        os.setsid()
        stdio = Stdio(tmp, job["maxOutputBytes"])
        close_all_but([wfd] + list(rpc or []) + stdio.files)
        # Until here fd 1 is the worker's channel to Node; from now on it is the stdout memfd.
        stdio.begin("")
        os.chdir(tmp)
        os.environ.clear()
        os.environ.update(job["env"])
        os.environ["HOME"] = tmp
        os.environ["TMPDIR"] = tmp
        tempfile.tempdir = tmp
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        apply_limits(job, nproc)
        if hasattr(sys, "set_int_max_str_digits"):
            # Big integer answers must print (3.11+ limits int/str conversion to 4300 digits).
            sys.set_int_max_str_digits(0)
        if drop:
            drop_privileges(drop[0], drop[1], drop[2])
    except Exception as e:
        rep.send({"t": "fatal", "msg": "sandbox setup failed: %s: %s" % (type(e).__name__, e)})
        return
    try:
        run_tests(job, rep, stdio, rpc)
    except MemoryError:
        rep.send({"t": "oom"})
        return
    except Exception as e:
        # Candidate code may have broken the harness (patched what it uses): a failure of the
        # program, never a pass and never an infra error.
        rep.send({"t": "broken", "msg": "%s: %s" % (type(e).__name__, e)})
        return
    if not rpc:
        rep.send({"t": "done"})


def compile_part(source, name):
    return compile(source, name, "exec", dont_inherit=True) if source else None


def fresh_namespace():
    module = _ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    _modules["__main__"] = module
    return module.__dict__


def run_tests(job, rep, stdio, rpc):
    kind = job["kind"]
    coverage = job.get("coverage", False)
    program = job["program"]
    try:
        if coverage:
            tree = ast.parse(program, CANDIDATE, "exec")
            code = compile(tree, CANDIDATE, "exec", dont_inherit=True)
        else:
            code = compile(program, CANDIDATE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as e:
        rep.send(dict({"t": "compile"}, **describe(e)))
        return
    try:
        pre = compile_part(job.get("preamble"), "<preamble>")
        epi = compile_part(job.get("epilogue"), "<epilogue>")
        # The setup runs here too (the program may use what it defines, as in MBPP); with a judge
        # process the cases run there, never here.
        setup = compile_part(job.get("setup"), "<setup>")
        cases = [] if rpc or kind != "assert" else compile_cases(job["cases"])
    except (SyntaxError, ValueError) as e:
        rep.send({"t": "fatal", "msg": "harness code (preamble/epilogue/setup/cases) does not compile: %s" % e})
        return
    tracer = None
    if coverage:
        exe = set()
        code_lines(code, exe)
        # Before the tracer is made: the counters backend rewrites `tree` in place.
        rep.send(static_coverage(tree, exe))
        tracer = make_tracer(job, tree, code, exe)
        code = getattr(tracer, "code", code)
    rec_limit = _getrec()
    max_value = job["maxRecordBytes"] // 2
    # From here on candidate code runs: a "fatal" (infra) record after this one is a forgery.
    rep.send({"t": "begin"})

    def guarded(fn):
        """Run candidate code; returns (value, exception info or None)."""
        if tracer:
            tracer.start()
        try:
            return fn(), None
        except BaseException as e:
            return None, e
        finally:
            if tracer:
                tracer.stop()
            if _getrec() < rec_limit:
                _setrec(rec_limit)

    def finish(record, t0, exc):
        record["ms"] = round((_perf() - t0) * 1000, 3)
        out, err, cut_out, cut_err = stdio.end()
        record["out"] = out
        record["err"] = err
        record["tro"] = cut_out
        record["tre"] = cut_err
        if exc is not None:
            record["exc"] = describe(exc)
            exc = None
        if tracer:
            record["hits"] = tracer.take()
        rep.send(record)

    if kind == "stdio":
        for i, text in enumerate(job["inputs"]):
            stdio.begin(text)
            t0 = _perf()

            def run_program():
                ns = fresh_namespace()
                if pre:
                    exec(pre, ns)
                exec(code, ns)
                if epi:
                    exec(epi, ns)

            _, exc = guarded(run_program)
            finish({"t": "test", "i": i}, t0, exc)
        return

    stdio.begin("")
    t0 = _perf()
    ns = fresh_namespace()

    def run_module():
        if pre:
            exec(pre, ns)
        exec(code, ns)
        if epi:
            exec(epi, ns)
        if setup:
            exec(setup, ns)

    _, exc = guarded(run_module)
    failed = exc is not None
    finish({"t": "prog"}, t0, exc)
    if failed:
        return

    if kind == "call":
        fn_name = job["fnName"]
        cls_name = job.get("className")
        for i, args in enumerate(job["inputs"]):
            stdio.begin("")
            t0 = _perf()

            def call():
                if cls_name:
                    if cls_name not in ns:
                        raise NameError("class '%s' is not defined by the program" % cls_name)
                    target = getattr(ns[cls_name](), fn_name)
                else:
                    if fn_name not in ns:
                        raise NameError("function '%s' is not defined by the program" % fn_name)
                    target = ns[fn_name]
                return target(*args)

            value, exc = guarded(call)
            record = {"t": "test", "i": i}
            if exc is None:
                unser = None
                try:
                    record["val"] = Raw(encode(value, max_value))
                except Unserializable as e:
                    unser = str(e)
                except RecursionError:
                    unser = "value is nested too deeply"
                except MemoryError:
                    unser = "encoding the return value ran out of memory (memoryMb)"
                if unser is not None:
                    record["unser"] = unser
            value = None
            finish(record, t0, exc)
        return

    if rpc:
        serve(rpc, ns, stdio, tracer, guarded, max_value)
        return

    for i, case_code in enumerate(cases):
        stdio.begin("")
        t0 = _perf()
        _, exc = guarded(lambda: exec(case_code, ns))
        finish({"t": "test", "i": i}, t0, exc)


def compile_cases(cases):
    out = []
    for i, case in enumerate(cases):
        try:
            out.append(compile(case, "<test %d>" % i, "exec", dont_inherit=True))
        except (SyntaxError, ValueError) as e:
            raise SyntaxError("test case %d does not compile: %s" % (i, e))
    return out


# ------------------------------------------------------------------------------------------------
# Assertion tests with a judge process
#
# The candidate's process can forge anything it writes, and candidate code running in a process
# can reach everything in it (frames, globals, gc, descriptors). So assertion tests are not run
# there: a second child, the judge, runs the setup and the cases, with each name the tests use
# from the program bound to a proxy that calls into the candidate's process over a pipe. Only
# plain data crosses (None, bool, int, float, complex, str, bytes, and lists, tuples, dicts, sets
# of them, by exact type): an object with a rigged `__eq__` cannot reach the comparison. The judge
# alone reports verdicts, on a pipe the candidate holds no descriptor of.
# ------------------------------------------------------------------------------------------------

PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)


def to_wire(v, depth=0):
    """Tagged, JSON-able form of a plain value; raises Unserializable for anything else."""
    if depth > 100:
        raise Unserializable("value is nested more than 100 levels deep")
    t = type(v)
    if t is float:
        return v if v == v and v not in (float("inf"), float("-inf")) else {"$x": repr(v)}
    if t is complex:
        return {"$c": [to_wire(v.real), to_wire(v.imag)]}
    if t is bytes:
        return {"$b": v.decode("latin-1")}
    if t in PLAIN_SCALARS:
        return v
    if t is list:
        return [to_wire(x, depth + 1) for x in v]
    if t is tuple:
        return {"$t": [to_wire(x, depth + 1) for x in v]}
    if t is set or t is frozenset:
        return {"$s" if t is set else "$f": [to_wire(x, depth + 1) for x in v]}
    if t is dict:
        return {"$d": [[to_wire(k, depth + 1), to_wire(x, depth + 1)] for k, x in v.items()]}
    raise Unserializable("a %s object is not plain data" % t.__name__)


def from_wire(v):
    """Inverse of to_wire, on untrusted input: builds only plain values."""
    t = type(v)
    if t is list:
        return [from_wire(x) for x in v]
    if t is not dict:
        if t in (type(None), bool, int, float, str):
            return v
        raise Unserializable("malformed value")
    if len(v) != 1:
        raise Unserializable("malformed value")
    (tag, x), = v.items()
    if tag == "$x" and x in ("nan", "inf", "-inf"):
        return float(x)
    if tag == "$c":
        return complex(from_wire(x[0]), from_wire(x[1]))
    if tag == "$b" and type(x) is str:
        return x.encode("latin-1")
    if type(x) is not list:
        raise Unserializable("malformed value")
    if tag == "$t":
        return tuple(from_wire(i) for i in x)
    if tag == "$s":
        return set(from_wire(i) for i in x)
    if tag == "$f":
        return frozenset(from_wire(i) for i in x)
    if tag == "$d":
        return dict((from_wire(k), from_wire(i)) for k, i in x)
    raise Unserializable("malformed value")


def read_line(fd, buf):
    """One line from a pipe (`buf` holds what was read past it); None at EOF."""
    while True:
        nl = buf[0].find(b"\n")
        if nl >= 0:
            line = buf[0][:nl]
            buf[0] = buf[0][nl + 1 :]
            return line
        chunk = _read(fd, 1 << 16)
        if not chunk:
            return None
        buf[0] += chunk


def serve(rpc, ns, stdio, tracer, guarded, max_value):
    """Candidate side: offer the program's names, then run the judge's calls. Everything here is
    reachable by candidate code, so the judge treats every answer as untrusted.

    A judge that has already ended (its setup or a case failed to compile: it reported `fatal`)
    closes its end of the answer pipe: writing then raises BrokenPipeError, which is not the
    program's error. Stop serving and let the judge's own records decide the verdict (under load
    the candidate's broken-pipe report could otherwise arrive first and mask the judge's)."""
    try:
        _serve(rpc, ns, stdio, tracer, guarded, max_value)
    except BrokenPipeError:
        return


def _serve(rpc, ns, stdio, tracer, guarded, max_value):
    req, resp = rpc
    offered = {}
    for name, value in list(ns.items()):
        if type(name) is not str or name.startswith("__") or isinstance(value, _ModuleType):
            continue
        if callable(value):
            offered[name] = "call"
        else:
            try:
                offered[name] = {"v": to_wire(value)}
            except (Unserializable, RecursionError):
                pass
    answer = lambda obj: write_all(resp, (json.dumps(obj) + "\n").encode("utf-8", "surrogatepass"))
    answer({"names": offered})
    buf = [b""]
    while True:
        line = read_line(req, buf)
        if line is None:
            return
        msg = json.loads(line)
        op = msg["op"]
        if op == "begin":
            stdio.begin("")
            continue
        if op == "end":
            out, err, cut_out, cut_err = stdio.end()
            hits = tracer.take() if tracer else None
            answer({"out": out, "err": err, "tro": cut_out, "tre": cut_err, "hits": hits})
            continue
        args = from_wire(msg["args"])
        kwargs = from_wire(msg["kw"])
        target = ns.get(msg["name"])
        value, exc = guarded(lambda: target(*args, **kwargs))
        if exc is not None:
            answer({"exc": describe(exc)})
            continue
        try:
            text = json.dumps({"ok": to_wire(value), "args": [to_wire(a) for a in args]})
            if len(text) > max_value:
                raise Unserializable("value is larger than %d bytes of JSON" % max_value)
            write_all(resp, (text + "\n").encode("utf-8", "surrogatepass"))
        except (Unserializable, RecursionError, MemoryError, ValueError) as e:
            answer({"unser": str(e)})


class NotPlainData(TypeError):
    """A value from the candidate that is not plain data (judge side)."""


class CandidateGone(Exception):
    """The candidate's process stopped answering (judge side)."""


def judge_main(job, wfd, req, resp, drop):
    """The judge: runs setup and cases with proxies for the candidate's names; reports each test's
    outcome on `wfd`. Runs no candidate code."""
    rep = Reporter(wfd)
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            _dup2(null, fd)
        _close(null)
        sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
        sys.stderr = sys.__stderr__ = sys.stdout
        if ctypes is not None:
            _LIBC.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace, no /proc/<pid>/mem by the candidate
        apply_limits(job, count_tasks(drop[0] if drop else os.getuid()) + job["maxProcesses"] + 1)
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(0)
        if drop:
            drop_privileges(drop[0], drop[1], drop[2])
        setup = compile_part(job.get("setup"), "<setup>")
        cases = compile_cases(job["cases"])
    except Exception as e:
        rep.send({"t": "fatal", "msg": "judge setup failed: %s: %s" % (type(e).__name__, e)})
        return
    buf = [b""]
    last = [None, None]  # the exception raised for the candidate's last failed call, and its facts

    def exchange(msg):
        write_all(req, (json.dumps(msg) + "\n").encode("utf-8", "surrogatepass"))
        line = read_line(resp, buf)
        if line is None:
            raise CandidateGone("the program's process ended before the test finished (os._exit or a crash)")
        try:
            answer = json.loads(line)
        except ValueError:
            raise CandidateGone("the program's process sent a malformed answer")
        if type(answer) is not dict:
            raise CandidateGone("the program's process sent a malformed answer")
        return answer

    def proxy(name):
        def call(*args, **kwargs):
            try:
                msg = {"op": "call", "name": name, "args": to_wire(list(args)), "kw": to_wire(dict(kwargs))}
            except Unserializable as e:
                raise NotPlainData("an argument of %s() cannot be sent to the program: %s" % (name, e))
            answer = exchange(msg)
            if "exc" in answer:
                raise candidate_exception(answer["exc"], last)
            if "unser" in answer:
                raise NotPlainData("%s() returned a value that is not plain data: %s" % (name, answer["unser"]))
            try:
                value = from_wire(answer["ok"])
                after = from_wire(answer["args"])
            except (Unserializable, KeyError, TypeError, ValueError, IndexError) as e:
                raise CandidateGone("the program's process sent a malformed answer: %s" % e)
            # In-place changes to list/dict/set arguments are copied back (`f(a); assert a == …`).
            if type(after) is list and len(after) == len(args):
                for arg, new in zip(args, after):
                    if type(arg) is list and type(new) is list:
                        arg[:] = new
                    elif type(arg) is dict and type(new) is dict:
                        arg.clear()
                        arg.update(new)
                    elif type(arg) is set and type(new) is set:
                        arg.clear()
                        arg.update(new)
            return value

        call.__name__ = call.__qualname__ = name
        return call

    try:
        line = read_line(resp, buf)
        offer = json.loads(line) if line is not None else None
        names = offer.get("names") if type(offer) is dict else None
        if type(names) is not dict:
            raise CandidateGone("the program's process ended before the tests (os._exit or a crash)")
    except (CandidateGone, ValueError) as e:
        rep.send({"t": "gone", "msg": str(e)})
        return
    ns = {"__name__": "__main__", "__builtins__": builtins}
    used = set()
    for code in [setup] + cases:
        if code is not None:
            code_names(code, used)
    entry = job.get("entryPoint")
    if entry:
        used.add(entry)
    for name in used:
        # The program never shadows a builtin the tests use (`abs`, `len`, `isinstance`…).
        if name in names and not hasattr(builtins, name):
            kind = names[name]
            if kind == "call":
                ns[name] = proxy(name)
            elif type(kind) is dict and "v" in kind:
                try:
                    ns[name] = from_wire(kind["v"])
                except (Unserializable, TypeError, ValueError, KeyError, IndexError):
                    pass
    rep.send({"t": "begin"})
    if setup is not None:
        try:
            exec(setup, ns)
        except BaseException as e:
            facts = describe_judged(e, last)
            if e is last[0] or isinstance(e, (CandidateGone, NotPlainData)):
                # The program failed inside the setup: its failure, not the dataset's.
                rep.send({"t": "gone", "msg": "the test setup failed calling the program: %s: %s" % (facts["type"], facts["msg"])})
            else:
                rep.send({"t": "fatal", "msg": "test setup raised %s: %s" % (facts["type"], facts["msg"])})
            return
    for i, case in enumerate(cases):
        t0 = _perf()
        record = {"t": "test", "i": i}
        try:
            write_all(req, b'{"op":"begin"}\n')
            exc = None
            try:
                exec(case, ns)
            except BaseException as e:
                exc = e
            record["ms"] = round((_perf() - t0) * 1000, 3)
            if exc is not None:
                record["exc"] = describe_judged(exc, last)
            if isinstance(exc, CandidateGone):
                rep.send(record)
                return
            out = exchange({"op": "end"})
        except CandidateGone as e:
            record["exc"] = describe_judged(e, last)
            rep.send(record)
            return
        except OSError as e:
            record["exc"] = {"type": "CandidateGone", "msg": "the program's process closed its pipe (%s)" % e}
            rep.send(record)
            return
        # Output and coverage come from the candidate's process: passed on, never interpreted.
        record["out"] = out.get("out") if type(out.get("out")) is str else ""
        record["err"] = out.get("err") if type(out.get("err")) is str else ""
        record["tro"] = out.get("tro") is True
        record["tre"] = out.get("tre") is True
        if type(out.get("hits")) is dict:
            record["hits"] = out["hits"]
        rep.send(record)
    rep.send({"t": "done"})


BUILTIN_EXCEPTIONS = dict(
    (name, value)
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def candidate_exception(facts, last):
    """The candidate's exception, re-raised in the judge as the builtin class of the same name
    (so `except ValueError` in a test works) or as CandidateError."""
    if type(facts) is not dict:
        facts = {}
    name = facts.get("type") if type(facts.get("type")) is str else "Exception"
    msg = facts.get("msg") if type(facts.get("msg")) is str else ""
    cls = BUILTIN_EXCEPTIONS.get(name)
    if cls is SystemExit:
        exc = SystemExit(facts.get("exit"))
    elif cls is not None and cls not in (KeyboardInterrupt, GeneratorExit, StopIteration, StopAsyncIteration):
        try:
            exc = cls(msg)
        except Exception:
            exc = CandidateError("%s: %s" % (name, msg))
    else:
        exc = CandidateError("%s: %s" % (name, msg))
    clean = {"type": name, "msg": msg[:1000]}
    if type(facts.get("line")) is int:
        clean["line"] = facts["line"]
    if "exit" in facts and (facts["exit"] is None or type(facts["exit"]) in (int, str)):
        clean["exit"] = facts["exit"]
    last[0], last[1] = exc, clean
    return exc


class CandidateError(Exception):
    """An exception of the candidate that has no builtin class of the same name (judge side)."""


def describe_judged(exc, last):
    if exc is last[0] and last[1] is not None:
        return last[1]
    info = describe(exc)
    if isinstance(exc, NotPlainData):
        info["type"] = "NotPlainData"
    elif isinstance(exc, CandidateGone):
        info["type"] = "CandidateGone"
    return info


def code_names(code, out):
    out.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            code_names(const, out)


def main():
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    for name in config.get("preload", []):
        try:
            __import__(name)
        except Exception:
            pass
    if config.get("subreaper"):
        config["subreaper"] = become_subreaper()
    if ctypes is not None:
        # PR_SET_DUMPABLE 0: a candidate running as the worker's own user (no root to drop) can
        # still not ptrace the worker or read or write its memory through /proc.
        _LIBC.prctl(4, 0, 0, 0, 0)
    run_as = config.get("runAs")
    if run_as:
        # Each worker of a pool has a slot; its candidates (and judges) get uids of their own, so
        # RLIMIT_NPROC, which the kernel counts per uid across the host, is not shared between
        # concurrent programs, and no program can signal or ptrace another worker's processes.
        slot = int(os.environ.pop("STEPCODER_SLOT", "0") or 0)
        run_as = [run_as[0] - 2 * slot, run_as[1]]
    if run_as and os.geteuid() == 0:
        config["runAs"] = [run_as[0], run_as[1], not can_read_python_as(run_as[0], run_as[1])]
    else:
        config["runAs"] = None
    send_worker(
        {
            "ev": "ready",
            "version": list(sys.version_info[:3]),
            "pid": os.getpid(),
            "runAs": config["runAs"],
            "subreaper": config.get("subreaper", False),
        }
    )
    while True:
        line = COMMANDS.next_line()
        if line is None:
            break
        if line.strip() == KILL_COMMAND:
            continue  # a kill that arrived after its program ended
        try:
            job = json.loads(line, object_hook=_revive)
            run_job(job, config)
        except Exception as e:
            send_worker({"ev": "error", "msg": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    main()
