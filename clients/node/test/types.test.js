// index.d.ts: it type-checks with Baileys' own declarations (tsc --noEmit
// over test/types/dropin.ts, the README's integration), and it declares what
// the module really exports.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import * as pkg from '../src/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

test('tsc --noEmit accepts index.d.ts and the drop-in integration', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(root, 'tsconfig.json')],
    { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stdout + run.stderr)
})

test('index.d.ts declares exactly the runtime exports', () => {
  const dts = readFileSync(join(root, 'index.d.ts'), 'utf8')
  const declared = [...dts.matchAll(/^export declare (?:class|function|const) (\w+)/gm)]
    .map((m) => m[1]).sort()
  assert.deepEqual(declared, Object.keys(pkg).sort())
  const err = new pkg.AuthstoreError('fenced', 'x', { status: 409 })
  assert.equal(err.name, 'AuthstoreError')
  for (const field of ['code', 'status', 'retryable', 'mayHaveApplied']) {
    assert.ok(field in err, field)
  }
})
