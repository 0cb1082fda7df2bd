"""Split points of Python programs for @stepcoder/curriculum (CCCS).

Protocol: one JSON request per line on stdin, ``{"id": n, "sources": [str, ...]}``; one JSON
response per line on stdout, ``{"id": n, "results": [...]}`` in the same order, where each result
is ``{"ok": true, "points": [[line, keyword], ...]}`` or ``{"ok": false, "error": "..."}``.
Lines are 1-based physical lines as Python's tokenizer counts them; ``keyword`` is the first token
of that line (``if``, ``else``, ``@``, ``def``...) so the caller can check its own line mapping.

A point is the line where a compound statement or one of its clauses begins: if/elif/else,
for/while (and their else), try/except/finally, with, match/case, def/class (at the first
decorator, so a point never falls between a decorator and its def). Compound statements and
clauses always begin a logical line, so these lines are never inside a string literal.
"""

import ast
import io
import json
import sys
import tokenize

COMPOUND = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Try,
    ast.With,
    ast.AsyncWith,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
)
if hasattr(ast, "TryStar"):
    COMPOUND = COMPOUND + (ast.TryStar,)
if hasattr(ast, "Match"):
    COMPOUND = COMPOUND + (ast.Match,)

# Hard keywords that open a clause of the enclosing compound statement.
CLAUSES = {"elif", "else", "except", "finally"}


def first_tokens(source):
    """Map line -> first token string of every logical line that starts on that line."""
    firsts = {}
    at_line_start = True
    skip = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NEWLINE:
            at_line_start = True
            continue
        if tok.type in skip or tok.type == tokenize.ENDMARKER:
            continue
        if at_line_start:
            firsts[tok.start[0]] = tok.string
            at_line_start = False
    return firsts


def points_of(source):
    tree = ast.parse(source)
    firsts = first_tokens(source)
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, COMPOUND):
            decorators = getattr(node, "decorator_list", None)
            lines.add(decorators[0].lineno if decorators else node.lineno)
        elif hasattr(ast, "match_case") and isinstance(node, ast.match_case):
            lines.add(node.pattern.lineno)
    for line, first in firsts.items():
        if first in CLAUSES:
            lines.add(line)
    points = []
    for line in sorted(lines):
        first = firsts.get(line)
        if first is None:
            continue  # defensive: a point must start a logical line
        points.append([line, first])
    return points


def handle(source):
    try:
        return {"ok": True, "points": points_of(source)}
    except SyntaxError as err:
        where = f" (line {err.lineno})" if err.lineno else ""
        return {"ok": False, "error": f"SyntaxError: {err.msg}{where}"}
    except Exception as err:  # RecursionError, MemoryError, tokenize errors, bad characters...
        return {"ok": False, "error": f"{type(err).__name__}: {err}"}


def main():
    stdin = sys.stdin.buffer
    stdout = sys.stdout
    while True:
        line = stdin.readline()
        if not line:
            return
        if not line.strip():
            continue
        request = json.loads(line.decode("utf-8", "surrogatepass"))
        results = [handle(source) for source in request["sources"]]
        stdout.write(json.dumps({"id": request["id"], "results": results}) + "\n")
        stdout.flush()


if __name__ == "__main__":
    main()
