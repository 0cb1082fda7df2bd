import type { jsFixtures, pythonFixtures } from './fixtures/programs.js';

/**
 * Hand-checked masks of the fixtures: the completion with runs of weight-0 tokens in ⟦…⟧.
 * Notes on the non-obvious ones:
 *  - a whitespace token `\n` + indentation takes the executed side (the line break belongs to the
 *    line it ends, the indentation to the next one);
 *  - `else:` / `} else {` follow the arm they open, `}` follows the line that opened its block;
 *  - Python's multi-line `max(` call: its continuation lines follow the `(`.
 */
type Expect = { line: string; statement: string; branch: string };

export const pythonExpected: Record<keyof typeof pythonFixtures, Expect> = {
  ifElse: {
    line: '    # classify\n    if x >= 0:\n        return 1\n    ⟦else:\n        return -1\n⟧',
    statement: '    # classify\n    if x >= 0:\n        return 1\n    ⟦else:\n        return -1\n⟧',
    branch: '    # classify\n    if x >= 0:\n        return 1\n    ⟦else:\n        return -1\n⟧',
  },
  earlyReturn: {
    line: '    if n < 0:\n        return 0\n    ⟦total = 0\n    for i in range(n):\n        total += i\n    return total\n⟧',
    statement:
      '    if n < 0:\n        return 0\n    ⟦total = 0\n    for i in range(n):\n        total += i\n    return total\n⟧',
    branch:
      '    if n < 0:\n        return 0\n    ⟦total = 0\n    for i in range(n):\n        total += i\n    return total\n⟧',
  },
  loopNeverEntered: {
    line: '    c = 0\n    for x in xs:\n        ⟦if x > 0:\n            c += 1⟧\n    return c\n',
    statement: '    c = 0\n    for x in xs:\n        ⟦if x > 0:\n            c += 1⟧\n    return c\n',
    branch: '    c = 0\n    for x in xs:\n        ⟦if x > 0:\n            c += 1⟧\n    return c\n',
  },
  caughtException: {
    line: '    try:\n        v = int(s)\n    except ValueError:\n        return -1\n    ⟦return v * 2\n⟧',
    statement:
      '    try:\n        v = int(s)\n    except ValueError:\n        return -1\n    ⟦return v * 2\n⟧',
    branch: '    try:\n        v = int(s)\n    except ValueError:\n        return -1\n    ⟦return v * 2\n⟧',
  },
  uncaughtException: {
    line: 'n = int(input())\nprint(10 // n)\n⟦print("done")\n⟧',
    statement: 'n = int(input())\nprint(10 // n)\n⟦print("done")\n⟧',
    branch: 'n = int(input())\nprint(10 // n)\n⟦print("done")\n⟧',
  },
  multiLine: {
    // Line coverage cannot see that the loop body on line 3 never ran; statement ranges can.
    line: '    acc = 0; n = 0\n    for x in xs: acc += x; n += 1\n    result = max(\n        acc,\n        0,\n    )\n    if n == 0: return -1\n    ⟦return result\n⟧',
    statement:
      '    acc = 0; n = 0\n    for x in xs: ⟦acc += x; n += 1⟧\n    result = max(\n        acc,\n        0,\n    )\n    if n == 0: return -1\n    ⟦return result\n⟧',
    branch:
      '    acc = 0; n = 0\n    for x in xs: ⟦acc += x; n += 1⟧\n    result = max(\n        acc,\n        0,\n    )\n    if n == 0: return -1\n    ⟦return result\n⟧',
  },
  unicodeCrlf: {
    line: '    if värde > 0:\r\n        ⟦return "π😀"⟧\r\n    return "∅"\r\n',
    statement: '    if värde > 0:\r\n        ⟦return "π😀"⟧\r\n    return "∅"\r\n',
    branch: '    if värde > 0:\r\n        ⟦return "π😀"⟧\r\n    return "∅"\r\n',
  },
  decoratorDocstring: {
    line: 'import functools\n@functools.cache\ndef g(x):\n    ⟦"""Doc\n    more.\n    """\n    return x\n⟧',
    statement:
      'import functools\n@functools.cache\ndef g(x):\n    ⟦"""Doc\n    more.\n    """\n    return x\n⟧',
    branch: 'import functools\n@functools.cache\ndef g(x):\n    ⟦"""Doc\n    more.\n    """\n    return x\n⟧',
  },
};

export const jsExpected: Record<keyof typeof jsFixtures, Expect> = {
  ifElse: {
    line: '  // classify\n  if (x >= 0) {\n    return 1;\n  ⟦} else {\n    return -1;\n  }\n⟧}\nconst abs = (x) => (x < 0 ? -x : x);\nconst pick = (a, b) => a || b;\n',
    statement:
      '  // classify\n  if (x >= 0) {\n    return 1;\n  ⟦} else {\n    return -1;\n  }\n⟧}\nconst abs = (x) => (x < 0 ? -x : x);\nconst pick = (a, b) => a || b;\n',
    // The untaken arms of `?:` and `||` are expressions: only the branch mask sees them.
    branch:
      '  // classify\n  if (x >= 0) {\n    return 1;\n  ⟦} else {\n    return -1;\n  }\n⟧}\nconst abs = (x) => (x < 0 ? ⟦-x⟧ : x);\nconst pick = (a, b) => a || ⟦b⟧;\n',
  },
  loopNeverEntered: {
    line: '  for (const x of xs) {\n    ⟦// negative?\n    if (x < 0) {\n      return x;\n    }⟧\n  }\n  return null;\n}\n',
    statement:
      '  for (const x of xs) {\n    ⟦// negative?\n    if (x < 0) {\n      return x;\n    }⟧\n  }\n  return null;\n}\n',
    branch:
      '  for (const x of xs) {\n    ⟦// negative?\n    if (x < 0) {\n      return x;\n    }⟧\n  }\n  return null;\n}\n',
  },
  exception: {
    line: '  try {\n    const v = JSON.parse(s);\n    ⟦return v * 2;⟧\n  } catch (e) {\n    return -1;\n  }\n}\n',
    statement:
      '  try {\n    const v = JSON.parse(s);\n    ⟦return v * 2;⟧\n  } catch (e) {\n    return -1;\n  }\n}\n',
    branch:
      '  try {\n    const v = JSON.parse(s);\n    ⟦return v * 2;⟧\n  } catch (e) {\n    return -1;\n  }\n}\n',
  },
  multiLine: {
    line: '  let acc = 0; let n = 0;\n  for (const x of xs) { acc += x; n += 1; }\n  const result = Math.max(\n    acc,\n    0,\n  );\n  if (n === 0) return -1;\n  ⟦return result;\n⟧}\n',
    statement:
      '  let acc = 0; let n = 0;\n  for (const x of xs) { ⟦acc += x; n += 1; }⟧\n  const result = Math.max(\n    acc,\n    0,\n  );\n  if (n === 0) return -1;\n  ⟦return result;\n⟧}\n',
    branch:
      '  let acc = 0; let n = 0;\n  for (const x of xs) { ⟦acc += x; n += 1; }⟧\n  const result = Math.max(\n    acc,\n    0,\n  );\n  if (n === 0) return -1;\n  ⟦return result;\n⟧}\n',
  },
  earlyReturn: {
    line: '  if (n < 0) return 0;\n  ⟦let s = 0;\n  while (s < n) s += 2;\n  return s;\n⟧}\n',
    statement: '  if (n < 0) return 0;\n  ⟦let s = 0;\n  while (s < n) s += 2;\n  return s;\n⟧}\n',
    branch: '  if (n < 0) return 0;\n  ⟦let s = 0;\n  while (s < n) s += 2;\n  return s;\n⟧}\n',
  },
  unicodeCrlf: {
    line: '  if (värde > 0) {\r\n    ⟦return "π😀";⟧\r\n  }\r\n  return "∅";\r\n}\r\n',
    statement: '  if (värde > 0) {\r\n    ⟦return "π😀";⟧\r\n  }\r\n  return "∅";\r\n}\r\n',
    branch: '  if (värde > 0) {\r\n    ⟦return "π😀";⟧\r\n  }\r\n  return "∅";\r\n}\r\n',
  },
};
