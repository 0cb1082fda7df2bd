"""Line coverage by counters compiled into the candidate (no trace function).

`sys.settrace` makes every frame of the traced thread run slower (Python ≤3.11 de-specialises the
interpreter while a trace function is set) and calls a Python function for each line event: 2-7x
on loop-heavy HumanEval solutions. Instead, the candidate's AST gets one `HITS[slot] += 1` per
*line event that tracing would have produced*, compiled into the code itself: a few specialised
bytecodes, no call, nothing for code that is not the candidate's.

The counters reproduce the line events of the stdlib `trace` module (what `sys.settrace` sees)
for statements: a statement's lines fire when it starts (a statement sharing its line with the one
before it does not fire again), a loop header fires on entry and again on every jump back (counted
as iterations started less those left by `break` or `return`, so a tight loop pays one increment
per iteration), a `with` header fires again when its block completes, an `except` line fires each
time an exception is matched against it. What counters cannot see is control flow
*inside* one statement: every line of a statement that spans several lines counts once when the
statement starts, so an exception raised half-way through it, a short-circuit that skips its last
line, or a multi-line comprehension/lambda (its lines count once per statement, not per iteration
or call) can differ from `trace`. The executed-line *set* differs only in those cases.

Only lines that carry bytecode in the uninstrumented program get counters (the `exe` set), so the
executable lines and the line numbers of tracebacks are those of the program as written.
"""

import ast
import sys

HITS = "_stepcoder_hits_"

_OLD_SUBSCRIPT = sys.version_info < (3, 9)
# Since 3.10 (PEP 626) a `with` block's `__exit__` call, and since 3.11 a decorator's call, sit on
# their own lines again, which therefore fire a second time.
_WITH_EXIT_FIRES = sys.version_info >= (3, 10)
_DECORATOR_CALL_FIRES = sys.version_info >= (3, 11)

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_WITH = (ast.With, ast.AsyncWith)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_TRY = (ast.Try,) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
_MATCH = getattr(ast, "Match", None)
_COMPOUND = _LOOPS + _WITH + _FUNCS + _TRY + (ast.If, ast.ClassDef) + ((_MATCH,) if _MATCH else ())


def _first_line(node):
    decorators = getattr(node, "decorator_list", None)
    return min([node.lineno] + [d.lineno for d in decorators]) if decorators else node.lineno


class Instrumenter:
    def __init__(self, exe):
        self.exe = exe
        # What each counter slot adds to which lines: [[line, weight], ...]. Lines that always fire
        # together share one slot, so a statement costs one increment however many lines it spans.
        self.slots = []
        self._slot_of = {}  # id(counter statement) -> slot

    # -- counter statements ----------------------------------------------------------------------

    def _new_slot(self, credits):
        self.slots.append(credits)
        return len(self.slots) - 1

    def _bump(self, credits, line):
        slot = self._new_slot(credits)
        node = ast.AugAssign(
            target=ast.Subscript(value=ast.Name(id=HITS, ctx=ast.Load()), slice=_index(slot), ctx=ast.Store()),
            op=ast.Add(),
            value=ast.Constant(1),
        )
        self._slot_of[id(node)] = slot
        return _locate(node, line)

    def _bumps(self, lines, weight=1):
        """One counter statement for `lines` (those with bytecode), or none."""
        credits = [[ln, weight] for ln in lines if ln in self.exe]
        return [self._bump(credits, credits[0][0])] if credits else []

    def _credit_first(self, body, line):
        """Make the counter that starts `body` also count `line` (a new one if it has none)."""
        if line not in self.exe:
            return
        slot = self._slot_of.get(id(body[0])) if body else None
        if slot is None:
            body[0:0] = self._bumps([line])
        else:
            self.slots[slot].append([line, 1])

    # -- which lines a statement fires when it starts --------------------------------------------

    def _header_lines(self, node):
        """The lines a statement's own code sits on, in order: all of a simple statement, the
        header of a compound one (decorators and signature included; a docstring or comments
        before the body carry no bytecode and are not in `exe` anyway)."""
        start = _first_line(node)
        if isinstance(node, ast.Assert) and node.msg is not None:
            # The message is evaluated only when the assertion fails: counted by `_marked`.
            return range(start, node.test.end_lineno + 1)
        if _MATCH and isinstance(node, _MATCH):
            return range(start, node.subject.end_lineno + 1)
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(node, _COMPOUND):
            end = body[0].lineno - 1 if body[0].lineno > node.lineno else node.lineno
            return range(start, end + 1)
        return range(start, getattr(node, "end_lineno", node.lineno) + 1)

    # -- blocks ------------------------------------------------------------------------------------

    def block(self, stmts, entry_line, loops=(), head=()):
        """Instrument a statement list. `entry_line` is the line control comes from when the block
        starts in the same frame (None at the start of a frame: its first line always fires);
        `loops` are the header lines of the enclosing loops of this frame, innermost last; `head`
        are lines that fire when the frame starts (a class body re-enters its `class` line)."""
        out = []
        prev = entry_line
        pending = list(head)
        for i, node in enumerate(stmts):
            if i == 0 and entry_line is None and self._is_docstring(node):
                # A docstring must stay first. In a module it is stored to `__doc__` (a line event,
                # counted right after it); in a function or class body it carries no bytecode.
                out.append(node)
                out.extend(self._bumps(pending + list(self._header_lines(node))))
                pending = []
                prev = node.end_lineno
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                out.append(node)  # must stay at the top; counted right after
                out.extend(self._bumps(self._header_lines(node)))
                prev = node.end_lineno
                continue
            lines = [ln for ln in self._header_lines(node) if ln != prev]
            out.extend(self._bumps(pending + lines))
            pending = []
            self.visit(node, loops)
            # A loop's header fires again on each jump back, i.e. for every iteration that started
            # (counted with the body's first counter) less those that left by `break` or `return`.
            if isinstance(node, ast.Break) and loops:
                out.extend(self._bumps([loops[-1]], weight=-1))
            elif isinstance(node, ast.Return) and loops:
                out.extend(self._bumps(loops, weight=-1))
            out.append(node)
            decorators = getattr(node, "decorator_list", None)
            if decorators and _DECORATOR_CALL_FIRES:
                # Decorators are applied after the def/class line ran, innermost first, each on
                # its own line again; the name is then stored on the def/class line.
                seq = [d.lineno for d in reversed(decorators)] + [node.lineno]
                last = node.lineno
                fired = []
                for ln in seq:
                    if ln != last:
                        fired.append(ln)
                    last = ln
                out.extend(self._bumps(fired))
            prev = None if isinstance(node, _COMPOUND) else node.end_lineno
        return out

    @staticmethod
    def _is_docstring(node):
        return (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )

    def visit(self, node, loops):
        if isinstance(node, _FUNCS):
            node.body = self.block(node.body, None)
            return
        if isinstance(node, ast.ClassDef):
            # The class body is a frame of its own whose first instructions sit on the class line.
            node.body = self.block(node.body, None, head=[node.lineno])
            return
        header = node.lineno
        if isinstance(node, _LOOPS):
            node.body = self.block(node.body, header, loops + (header,))
            self._credit_first(node.body, header)
            if node.orelse:
                node.orelse = self.block(node.orelse, header, loops)
            return
        if isinstance(node, ast.If):
            node.body = self.block(node.body, header, loops)
            if node.orelse:
                # `elif` is an If node of its own in orelse: its header line fires when tested.
                node.orelse = self.block(node.orelse, header, loops)
            return
        if isinstance(node, _WITH):
            node.body = self.block(node.body, header, loops)
            if _WITH_EXIT_FIRES:
                # Leaving the block runs `__exit__` on the header line again.
                node.body.extend(self._bumps([header]))
            return
        if isinstance(node, _TRY):
            node.body = self.block(node.body, header, loops)
            for handler in node.handlers:
                self._handler(handler, loops)
            if node.orelse:
                node.orelse = self.block(node.orelse, None, loops)
            if node.finalbody:
                node.finalbody = self.block(node.finalbody, None, loops)
            return
        if _MATCH and isinstance(node, _MATCH):
            self._match(node, loops)
            return
        if isinstance(node, ast.Assert) and node.msg is not None:
            msg_lines = range(node.msg.lineno, node.msg.end_lineno + 1)
            node.msg = self._marked(node.msg, [ln for ln in msg_lines if ln in self.exe and ln != node.lineno])
        # Other simple statements: nothing nested to instrument (lambdas and comprehensions are
        # expressions; their lines count once with their statement).

    def _match(self, node, loops):
        """Each `case` line fires when its pattern is tried: every case before the one that
        matched, and all of them when none did (counted in an added trailing `case _:`, which
        changes nothing because an unmatched `match` does nothing)."""
        tried = []
        for case in node.cases:
            tried.extend(range(case.pattern.lineno, case.pattern.end_lineno + 1))
            case.body = self._bumps(tried) + self.block(case.body, case.pattern.end_lineno, loops)
        last = node.cases[-1]
        irrefutable = isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None and last.guard is None
        if not irrefutable:
            line = last.pattern.lineno
            anything = _locate(ast.MatchAs(pattern=None, name=None), line)
            body = self._bumps(tried) or [_locate(ast.Pass(), line)]
            node.cases.append(ast.match_case(pattern=anything, guard=None, body=body))

    def _handler(self, handler, loops):
        lines = range(handler.lineno, max(handler.body[0].lineno - 1, handler.lineno) + 1)
        if handler.type is not None:
            # The `except E` line fires whenever an exception is matched against it, matching or
            # not: count inside the type expression, which Python evaluates exactly then.
            handler.type = self._marked(handler.type, [ln for ln in lines if ln in self.exe])
            handler.body = self.block(handler.body, handler.lineno, loops)
        else:
            bumps = self._bumps(lines)
            handler.body = bumps + self.block(handler.body, handler.lineno, loops)

    def _marked(self, expr, lines):
        """`(HITS.__setitem__(s, HITS[s] + 1), ..., expr)[-1]`: bumps the slots, then has the value
        of `expr`. A tuple is allocated, but only on the exception path."""
        if not lines:
            return expr
        parts = []
        for ln in lines:
            slot = self._new_slot([[ln, 1]])
            current = ast.Subscript(value=ast.Name(id=HITS, ctx=ast.Load()), slice=_index(slot), ctx=ast.Load())
            setter = ast.Attribute(value=ast.Name(id=HITS, ctx=ast.Load()), attr="__setitem__", ctx=ast.Load())
            bump = ast.Call(
                func=setter,
                args=[ast.Constant(slot), ast.BinOp(left=current, op=ast.Add(), right=ast.Constant(1))],
                keywords=[],
            )
            parts.append(_locate(bump, expr.lineno))
        wrapper = ast.Subscript(
            value=ast.Tuple(elts=parts + [expr], ctx=ast.Load()), slice=_index(len(parts)), ctx=ast.Load()
        )
        for each in (wrapper, wrapper.value, wrapper.slice) + ((wrapper.slice.value,) if _OLD_SUBSCRIPT else ()):
            ast.copy_location(each, expr)
        return wrapper


def _index(i):
    return ast.Index(ast.Constant(i)) if _OLD_SUBSCRIPT else ast.Constant(i)


def _locate(node, line):
    for each in ast.walk(node):
        each.lineno = each.end_lineno = line
        each.col_offset = each.end_col_offset = 0
    return node


def instrument(tree, exe):
    """Rewrite `tree` (a parsed module, modified in place) so that running it counts line events
    into the list named HITS (the harness makes it a builtin). Returns what each slot credits: [[line, weight], ...];
    line hits are the sum over slots of count * weight."""
    inst = Instrumenter(exe)
    tree.body = inst.block(tree.body, None)
    return inst.slots
