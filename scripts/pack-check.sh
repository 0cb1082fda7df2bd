#!/usr/bin/env bash
# The packages as users install them (issue 17). After `pnpm build`:
#  1. pack every publishable package with `pnpm pack` (publishConfig applied, workspace:^ resolved),
#     check each manifest carries license/repository/homepage/bugs/engines and each tarball a LICENSE;
#  2. lint every tarball with publint (--strict) and @arethetypeswrong/cli (node16 CJS/ESM, bundler);
#  3. install the light tarballs into a fresh npm project outside the monorepo and run the root README's
#     registry snippet from an ES module and from a CommonJS module, then typecheck a TypeScript consumer
#     of each module kind (node16 resolution: the TS1479 "masquerading as ESM" case).
# model, ppo, cli and executor-js are linted but not installed: their dependencies (tfjs, a native
# isolated-vm build) would make this step minutes long; they share the manifest layout checked here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/stepcoder-pack-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

PUBLINT=publint@0.3.25
ATTW=@arethetypeswrong/cli@0.18.5
INSTALLED=(core executor-python reward coverage-mask)

mkdir -p "$work/tarballs" "$work/tools"
npm install --silent --no-audit --no-fund --prefix "$work/tools" "$PUBLINT" "$ATTW" >/dev/null

for dir in packages/*/; do
  name=$(node -p "require('./${dir}package.json').name")
  if [ "$(node -p "require('./${dir}package.json').private === true")" = true ]; then continue; fi
  node -e '
    const p = require(process.argv[1]);
    const missing = ["license", "repository", "homepage", "bugs", "engines"].filter((k) => !p[k]);
    if (missing.length) { console.error(`${p.name}: package.json lacks ${missing.join(", ")}`); process.exit(1); }
  ' "$root/${dir}package.json"
  [ -f "${dir}LICENSE" ] || { echo "$name: no LICENSE file" >&2; exit 1; }
  tarball=$(cd "$dir" && pnpm pack --pack-destination "$work/tarballs" 2>/dev/null | tail -n 1)
  # Listed to a file first: `tar | grep -q` would end tar with SIGPIPE, which pipefail reports.
  tar -tzf "$tarball" >"$work/contents"
  grep -qx 'package/LICENSE' "$work/contents" || { echo "$name: LICENSE missing from $tarball" >&2; exit 1; }
  echo "== $name: $(basename "$tarball")"
  "$work/tools/node_modules/.bin/publint" "$tarball" --strict
  # node16 (CJS and ESM) and bundler resolution; node10 ignores `exports`, so no subpath
  # (`/base`, `/bin`) can resolve there, by design of that mode.
  "$work/tools/node_modules/.bin/attw" "$tarball" --profile node16 --format table-flipped
done

# A fresh npm project, outside the workspace, that installs the tarballs like a user would.
app="$work/app"
mkdir -p "$app"
cd "$app"
npm init -y >/dev/null
tarballs=()
for pkg in "${INSTALLED[@]}"; do tarballs+=("$work/tarballs/stepcoder-$pkg-0.0.0.tgz"); done
# The tarballs depend on each other at their exact version; npm takes those from the local files.
npm install --silent --no-audit --no-fund "${tarballs[@]}" >/dev/null

cat >esm.mjs <<'EOF'
import { registry } from '@stepcoder/core';
import '@stepcoder/executor-python'; // registers executor 'python'

const executor = await registry.create('executor', 'python', { poolSize: 1 });
const result = await executor.run({
  language: 'python',
  program: 'print(int(input()) * 2)',
  tests: { kind: 'stdio', cases: [{ input: '21\n', output: '42\n' }] },
});
await executor.dispose();
const listed = registry.list('executor');
const error = await registry.create('executor', 'rust').catch((e) => e);
console.log(JSON.stringify({ listed, outcome: result.outcome, code: error.code }));
EOF
cat >cjs.cjs <<'EOF'
const { registry, StepcoderError } = require('@stepcoder/core');
require('@stepcoder/executor-python');
require('@stepcoder/reward');
require('@stepcoder/coverage-mask');
(async () => {
  const reward = await registry.create('reward', 'stepcoder');
  const error = await registry.create('mask', 'lnie').catch((e) => e);
  console.log(JSON.stringify({ listed: registry.list('executor'), pass: reward.score({ outcome: 'pass' }), typed: StepcoderError.is(error, 'UNKNOWN_PLUGIN') }));
})();
EOF
esm=$(node esm.mjs)
cjs=$(node cjs.cjs)
echo "esm: $esm"
echo "cjs: $cjs"
[ "$esm" = '{"listed":["python"],"outcome":"pass","code":"UNKNOWN_PLUGIN"}' ] || { echo "ESM snippet: unexpected output" >&2; exit 1; }
[ "$cjs" = '{"listed":["python"],"pass":1,"typed":true}' ] || { echo "CJS snippet: unexpected output" >&2; exit 1; }

# TypeScript consumers of both module kinds resolve each condition's own declarations.
cat >consumer.cts <<'EOF'
import { registry, type Executor } from '@stepcoder/core';
import '@stepcoder/executor-python';
export const pending: Promise<Executor> = registry.create('executor', 'python', { poolSize: 1 });
EOF
cat >consumer.mts <<'EOF'
import { registry, type Executor } from '@stepcoder/core';
import '@stepcoder/executor-python';
export const pending: Promise<Executor> = registry.create('executor', 'python', { poolSize: 1 });
EOF
cat >tsconfig.json <<'EOF'
{ "compilerOptions": { "module": "node16", "moduleResolution": "node16", "target": "es2022", "strict": true, "noEmit": true, "skipLibCheck": true, "types": [] }, "files": ["consumer.cts", "consumer.mts"] }
EOF
node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json
echo "typescript: consumer.cts and consumer.mts typecheck (node16)"
echo "pack check passed in $(($(date +%s) - start))s"
