import { afterAll, describe, expect, it } from 'vitest';
import { createPythonSplitter, createStepsCurriculum, StageCache } from '../src/base.js';
import { humanEvalProblem, lineNumbers, loadHumanEval } from './helpers.js';

const splitter = createPythonSplitter();
afterAll(() => splitter.close());

describe('every HumanEval canonical solution', () => {
  const rows = loadHumanEval();
  const problems = rows.map(humanEvalProblem);

  it('has 164 problems in the fixture', () => {
    expect(problems).toHaveLength(164);
  });

  it('splits with the parser, and every stage reproduces the program exactly', async () => {
    const cache = new StageCache({ splitter });
    await cache.prefetch(problems);
    const histogram = new Map<number, number>();
    let stages = 0;
    for (const problem of problems) {
      const staged = await cache.get(problem);
      const program = problem.canonicalSolutions[0]!;
      expect(staged.split.method, `${problem.id}: ${staged.split.reason}`).toBe('ast');
      expect(staged.split.reason).toBeUndefined();
      expect(staged.split.starterEnd).toBe(problem.starterCode!.length);
      lineNumbers(program, staged.split.points); // every point is a line start
      for (let i = 1; i < staged.split.points.length; i++) {
        expect(staged.split.points[i]!).toBeGreaterThan(staged.split.points[i - 1]!);
      }
      expect(staged.stageCount).toBe(staged.split.points.length + 1);
      for (const s of staged.stages) {
        expect(s.givenPrefix + s.target).toBe(program);
        expect(s.completionStart).toBe(s.givenPrefix.length);
        // Stages never give less than the starter code (the HumanEval prompt).
        expect(s.givenPrefix.startsWith(problem.starterCode!)).toBe(true);
      }
      // Stage 0 gives the most code, the final stage only the prompt.
      expect(staged.stages.at(-1)!.givenPrefix).toBe(problem.starterCode);
      histogram.set(staged.stageCount, (histogram.get(staged.stageCount) ?? 0) + 1);
      stages += staged.stageCount;
    }
    const rowsOut = [...histogram.entries()].sort((a, b) => a[0] - b[0]);
    console.log(
      `HumanEval stage counts (stages: problems): ${rowsOut.map(([k, v]) => `${k}: ${v}`).join(', ')}; ` +
        `${stages} stages over ${problems.length} problems`,
    );
    // Measured with Python 3.11's ast; one-line solutions have a single stage.
    expect(Object.fromEntries(rowsOut)).toEqual({
      1: 60,
      2: 23,
      3: 27,
      4: 21,
      5: 15,
      6: 10,
      7: 1,
      8: 2,
      9: 1,
      10: 2,
      11: 1,
      15: 1,
    });
    expect(stages).toBe(484);
  });

  it('gives prompts that are exactly the given prefix (the statement is already in it)', async () => {
    const curriculum = createStepsCurriculum({ splitter, stepsPerStage: 10 });
    for (const problem of problems) {
      const count = await curriculum.prompter.stageCount(problem);
      for (const stage of [0, count - 1]) {
        const p = await curriculum.prompt(problem, stage);
        expect(p.prompt).toBe(p.givenPrefix);
        expect(p.givenPrefix + p.target).toBe(problem.canonicalSolutions[0]);
        expect(p.stageCount).toBe(count);
      }
    }
  });
});
