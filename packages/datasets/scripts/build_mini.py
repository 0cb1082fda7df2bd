"""Build fixtures/mini/{python,javascript}.jsonl from mini_python.py / mini_javascript.py.

Every canonical solution is run against every test (python3 / node) before anything is written;
the build fails on the first mismatch. Usage: python3 scripts/build_mini.py
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures', 'mini')
sys.path.insert(0, HERE)
import mini_javascript  # noqa: E402
import mini_python  # noqa: E402


def norm(text):
    return [line.rstrip() for line in text.strip().splitlines()]


def run(cmd, program, stdin=''):
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise SystemExit(f'program failed: {r.stderr}\n---\n{program}')
    return r.stdout


def build(problems, language):
    py = language == 'python'
    cmd = ['python3', '-c'] if py else ['node', '-e']
    sig_re = re.compile(r'^def (\w+)\(' if py else r'^function (\w+)\(', re.M)
    rows = []
    for pid, statement, kind, solution, tests in problems:
        problem = {'id': pid, 'prompt': statement, 'language': language, 'canonicalSolutions': [solution],
                   'difficulty': 'introductory'}
        if kind == 'stdio':
            for stdin, expected in tests:
                got = run(cmd + [solution], solution, stdin)
                if norm(got) != norm(expected):
                    raise SystemExit(f'{pid}: stdin {stdin!r}: expected {expected!r}, got {got!r}')
            problem['tests'] = {'kind': 'stdio', 'cases': [{'input': i, 'output': o} for i, o in tests]}
        else:
            name = sig_re.search(solution).group(1)
            problem['starterCode'] = solution.split('\n', 1)[0] + '\n'
            if kind == 'call':
                for args, expected in tests:
                    if py:
                        code = solution + f'\nimport json\nprint(json.dumps({name}(*json.loads({json.dumps(json.dumps(args))}))))\n'
                    else:
                        code = solution + f'\nconsole.log(JSON.stringify({name}(...{json.dumps(args)})));\n'
                    got = json.loads(run(cmd + [code], code))
                    if got != expected:
                        raise SystemExit(f'{pid}: {args}: expected {expected!r}, got {got!r}')
                problem['tests'] = {'kind': 'call', 'fnName': name, 'inputs': [a for a, _ in tests],
                                    'outputs': [e for _, e in tests]}
            else:
                for case in tests:
                    code = solution + '\n' + case + '\n'
                    run(cmd + [code], code)
                problem['tests'] = {'kind': 'assert', 'cases': tests, 'entryPoint': name}
        if len(tests) < 3:
            raise SystemExit(f'{pid}: fewer than 3 tests')
        rows.append(problem)
    return rows


def main():
    os.makedirs(OUT, exist_ok=True)
    for module, language, file in ((mini_python, 'python', 'python.jsonl'),
                                   (mini_javascript, 'javascript', 'javascript.jsonl')):
        rows = build(module.PROBLEMS, language)
        ids = [r['id'] for r in rows]
        assert len(ids) == len(set(ids)), 'duplicate ids'
        with open(os.path.join(OUT, file), 'w') as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + '\n')
        kinds = {}
        for r in rows:
            kinds[r['tests']['kind']] = kinds.get(r['tests']['kind'], 0) + 1
        print(f'{file}: {len(rows)} problems {kinds}')


main()
