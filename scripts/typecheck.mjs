// Type-checks every TypeScript project of the repository (tsc --noEmit -p …), one after the other.
import { execFileSync } from 'node:child_process';

const projects = [
  'packages/core/tsconfig.json',
  'packages/core/src/node/tsconfig.json',
  'packages/browser-sdk/tsconfig.json',
  'packages/node-bridge/tsconfig.json',
  'packages/signaling/tsconfig.json',
  'demo/tsconfig.json',
  'demo/sw/tsconfig.json',
  'test/tsconfig.json',
  // After the build: the published .d.ts files, as a user's compiler sees them.
  'test/types/tsconfig.json',
];
let failed = 0;
for (const project of projects) {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', project], {
      stdio: 'inherit',
    });
  } catch {
    failed++;
  }
}
if (failed > 0) {
  console.error(`typecheck: ${failed} of ${projects.length} projects have type errors`);
  process.exit(1);
}
console.log(`typecheck: ${projects.length} projects clean`);
