export const PY_DECORATORS = `import functools


@functools.lru_cache(maxsize=None)
def fib(n):
    """Fibonacci.

    if n < 2: this line is docstring text, not code
    """
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


class Point:
    @staticmethod
    @functools.wraps(print)
    def origin():
        return Point()

    @property
    def norm(self):
        return 0
`;

export const PY_ELIF_CHAIN = `def grade(score):
    # if this comment looked like code, it still is not
    if score >= 90:
        return 'A'
    elif score >= 80:
        return 'B'
    elif score >= 70: return 'C'
    else:
        return 'F'
`;

export const PY_TRY = `def read(path):
    try:
        f = open(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise
    else:
        with f:
            return f.read()
    finally:
        print('done')
`;

export const PY_MULTILINE_STRINGS = `def banner(name):
    text = """
for i in range(3):
    if i:
        print(i)
"""
    other = ('a'
             'b')
    raw = r'''
while True:
''' ; n = 0
    while n < 3:
        n += 1
    else:
        n = -1
    return text + other + raw
`;

export const PY_NESTED = `def count(grid):
    total = 0
    for row in grid:
        for cell in row:
            if cell:
                while cell > 0:
                    cell -= 1
                    total += 1
    def helper(x):
        return [y for y in x if y]
    return total
`;

export const PY_MATCH_ASYNC = `import asyncio


async def handle(cmd, lock):
    async with lock:
        match cmd.split():
            case ["go", direction]:
                return direction
            case ["quit"] | ["exit"]:
                return None
            case _:
                async for x in cmd:
                    pass
    match = 3
    return match
`;

export const PY_CRLF = 'def f(x):\r\n    if x:\r\n        return 1\r\n    return 2\r\n';

export const PY_EXPRESSIONS = `def pick(a, b, c):
    x = (a
         if b
         else c)
    y = [i
         for i in a
         if i]
    z = a \\
        if b else c
    for i in a: pass
    else: pass
    return x, y, z
`;
