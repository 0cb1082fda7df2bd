import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/*
 * The verification scripts, as tests: our GPT-2 and Llama/Qwen2 forwards (cpu, wasm, wasm +
 * native kernels; logits, values, greedy KV-cache generation, HF directory round trips) against
 * independent PyTorch implementations (scripts/torch_gpt2.py, scripts/torch_llama.py), 1e-4 / 1e-5
 * relative. They need Debian's python3-torch: CI installs it and sets STEPCODER_REQUIRE_TORCH=1,
 * so there a missing torch fails instead of skipping.
 */

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function torchImportable(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const required = process.env.STEPCODER_REQUIRE_TORCH === '1';
const available = torchImportable();

describe.skipIf(!available && !required)('against PyTorch (python3-torch)', () => {
  it('torch is importable where CI requires it', () => {
    expect(available).toBe(true);
  });

  for (const [script, okLine] of [
    ['scripts/verify-torch.py', /-> OK/],
    ['scripts/verify-llama-torch.py', /max relative error .* \(tolerance 1e-05\): OK/],
  ] as const) {
    it(`${script} passes`, async () => {
      const { stdout } = await run('/usr/bin/python3', [script], {
        cwd: packageDir,
        maxBuffer: 16 * 2 ** 20,
      });
      expect(stdout).toMatch(okLine);
      expect(stdout).not.toMatch(/FAIL|MISMATCH/);
    }, 240_000);
  }
});
