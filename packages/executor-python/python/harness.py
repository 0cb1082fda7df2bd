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


def _enc(v, out, depth):
    if depth > 200:
        raise Unserializable("value is nested more than 200 levels deep")
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
    elif isinstance(v, float):
        if v != v:
            out.append('{"' + FLOAT_KEY + '":"nan"}')
        elif v in (float("inf"), float("-inf")):
            out.append('{"' + FLOAT_KEY + '":"' + ("inf" if v > 0 else "-inf") + '"}')
        else:
            out.append(_float_repr(v))
    elif isinstance(v, str):
        out.append(_esc(_str_str(v)))
    elif isinstance(v, (list, tuple)):
        out.append("[")
        first = True
        for item in _list_iter(v) if isinstance(v, list) else _tuple_iter(v):
            if not first:
                out.append(",")
            first = False
            _enc(item, out, depth + 1)
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
            _enc(item, out, depth + 1)
        out.append("}")
    else:
        raise Unserializable("value of type " + t.__name__ + " is not JSON-serialisable")


def encode(v):
    out = []
    _enc(v, out, 0)
    return _join(out)


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


def pump(pid, rfd, max_line):
    """Relay the child's records until it exits; returns (wait status, overflowed)."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    buf = b""
    status = None
    overflow = False
    eof = False
    drain_deadline = None
    while True:
        if eof and status is not None:
            break
        if status is not None:
            remaining = drain_deadline - time.monotonic()
            if remaining <= 0:
                break
            timeout = remaining
            fds = [rfd]
        elif eof:
            # The pipe closed but the child lives on: wait for it (the Node parent kills it at
            # its timeout).
            _, status = os.waitpid(pid, 0)
            break
        else:
            fds = [rfd] + ([pidfd] if pidfd is not None else [])
            timeout = None if pidfd is not None else 0.05
        ready, _, _ = select.select(fds, [], [], timeout)
        if pidfd is not None and pidfd in ready or (pidfd is None and status is None and not ready):
            wpid, st = os.waitpid(pid, os.WNOHANG if pidfd is None else 0)
            if wpid == pid:
                status = st
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                # Descendants that escaped the group may hold the pipe open: drain briefly only.
                drain_deadline = time.monotonic() + 0.2
        if rfd in ready:
            chunk = _read(rfd, 1 << 16)
            if not chunk:
                eof = True
                continue
            if overflow:
                continue
            buf += chunk
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                write_all(1, b"C" + buf[:nl] + b"\n")
                buf = buf[nl + 1 :]
            if len(buf) > max_line:
                overflow = True
                buf = b""
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
    if pidfd is not None:
        _close(pidfd)
    return status, overflow


def run_job(job, config):
    base = config.get("tmpDir") or None
    tmp = tempfile.mkdtemp(prefix="stepcoder-", dir=base)
    # Root is exempt from RLIMIT_NPROC and can read everything: children run as an unprivileged
    # user instead (nobody by default) when the worker itself is root.
    drop = config.get("runAs")
    try:
        if drop:
            os.chown(tmp, drop[0], drop[1])
        nproc = count_tasks(drop[0] if drop else os.getuid()) + job["maxProcesses"] + 1
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                _close(rfd)
                child_main(job, wfd, tmp, nproc, drop)
            finally:
                _exit(0)
        _close(wfd)
        # No setpgid here: the child's setsid() makes it a group leader, and setsid fails in a
        # process that already leads a group. Node kills the pid as well as the group.
        send_worker({"ev": "start", "pid": pid})
        try:
            status, overflow = pump(pid, rfd, job["maxRecordBytes"])
        finally:
            _close(rfd)
        if config.get("subreaper"):
            kill_orphans()
        event = {"ev": "exit", "overflow": overflow}
        if status is not None:
            if os.WIFSIGNALED(status):
                event["signal"] = os.WTERMSIG(status)
            elif os.WIFEXITED(status):
                event["code"] = os.WEXITSTATUS(status)
        send_worker(event)
    finally:
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
        truncated = False
        for fd in self.files[1:]:
            try:
                size = _fstat(fd).st_size
                data = _pread(fd, self.cap, 0)
            except OSError:
                size, data = 0, b""
            if size > self.cap:
                truncated = True
            texts.append(data.decode("utf-8", "replace"))
        return texts[0], texts[1], truncated


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


def child_main(job, wfd, tmp, nproc, drop):
    rep = Reporter(wfd)
    try:
        os.setsid()
        stdio = Stdio(tmp, job["maxOutputBytes"])
        keep = sorted({0, 1, 2, wfd} | set(stdio.files))
        prev = 2
        for fd in keep[3:]:
            if fd > prev + 1:
                os.closerange(prev + 1, fd)
            prev = fd
        os.closerange(prev + 1, 1 << 20)
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
    run_tests(job, rep, stdio)
    rep.send({"t": "done"})


def compile_part(source, name):
    return compile(source, name, "exec", dont_inherit=True) if source else None


def fresh_namespace():
    module = _ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    _modules["__main__"] = module
    return module.__dict__


def run_tests(job, rep, stdio):
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
        setup = compile_part(job.get("setup"), "<setup>")
    except (SyntaxError, ValueError) as e:
        rep.send({"t": "fatal", "msg": "harness code (preamble/epilogue/setup) does not compile: %s" % e})
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
        out, err, truncated = stdio.end()
        record["out"] = out
        record["err"] = err
        record["tr"] = truncated
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
                try:
                    record["val"] = Raw(encode(value))
                except Unserializable as e:
                    record["unser"] = str(e)
                except RecursionError:
                    record["unser"] = "value is nested too deeply"
            value = None
            finish(record, t0, exc)
        return

    for i, case in enumerate(job["cases"]):
        stdio.begin("")
        t0 = _perf()
        try:
            case_code = compile(case, "<test %d>" % i, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:
            rep.send({"t": "fatal", "msg": "test case %d does not compile: %s" % (i, e)})
            return
        _, exc = guarded(lambda: exec(case_code, ns))
        finish({"t": "test", "i": i}, t0, exc)


def main():
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    for name in config.get("preload", []):
        try:
            __import__(name)
        except Exception:
            pass
    if config.get("subreaper"):
        config["subreaper"] = become_subreaper()
    run_as = config.get("runAs")
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
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            break
        try:
            job = json.loads(line, object_hook=_revive)
            run_job(job, config)
        except Exception as e:
            send_worker({"ev": "error", "msg": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    main()
