import { describe, expect, it } from 'vitest';
import { assemblePrompt, defaultHeader } from '../src/base.js';
import { problemOf } from './helpers.js';

const PROGRAM = 'def f(x):\n    if x:\n        return 1\n    return 2\n';

describe('assemblePrompt', () => {
  it('default Python template: `# ` statement lines, a bare `#` for blank lines, a blank line, the prefix', () => {
    const problem = { ...problemOf('p', PROGRAM), prompt: 'Return 1 when x.\n\n  Else 2.\n' };
    const prefix = 'def f(x):\n';
    const p = assemblePrompt(problem, prefix, { stage: 1, stageCount: 2 });
    expect(p).toEqual({
      prompt: '# Return 1 when x.\n#\n#   Else 2.\n\ndef f(x):\n',
      givenPrefix: prefix,
      target: '    if x:\n        return 1\n    return 2\n',
      completionStart: prefix.length,
      stage: 1,
      stageCount: 2,
    });
  });

  it('default JS/TS template uses `// ` line comments (a statement may contain */)', () => {
    const problem = {
      ...problemOf('j', 'function f() {}\n', 'typescript'),
      prompt: 'Write f. */ not a comment end',
    };
    expect(assemblePrompt(problem, '').prompt).toBe('// Write f. */ not a comment end\n\n');
  });

  it('omits the statement when the prefix already holds it (HumanEval prompts)', () => {
    const stub = 'def f(x):\n    """Return 1 when x."""\n';
    const problem = { ...problemOf('h', `${stub}    return 1\n`, 'python', stub), prompt: stub };
    expect(assemblePrompt(problem, stub).prompt).toBe(stub);
  });

  it('shows starter code that the program does not contain as comments', () => {
    const problem = problemOf('s', PROGRAM, 'python', '\nclass Solution:\n    def f(self, x):\n');
    expect(defaultHeader(problem, '')).toBe(
      '# Solve problem s.\n# Starter code:\n# class Solution:\n#     def f(self, x):\n\n',
    );
  });

  it('string templates fill {{fields}}; function templates get the context', () => {
    const problem = problemOf('t', PROGRAM);
    const s = assemblePrompt(problem, 'def f(x):\n', {
      template: '"""{{statement}}""" # {{id}} stage {{stage}}/{{stageCount}} ({{language}})\n',
      stage: 0,
      stageCount: 3,
    });
    expect(s.prompt).toBe('"""Solve problem t.""" # t stage 0/3 (python)\ndef f(x):\n');
    const f = assemblePrompt(problem, '', (ctx) => `${ctx.commentPrefix} ${ctx.problem.id}\n`);
    expect(f.prompt).toBe('# t\n');
    expect(f.target).toBe(PROGRAM);
    expect(() => assemblePrompt(problem, '', '{{statment}}')).toThrow(/unknown field.*\{\{statment\}\}/);
  });
});
