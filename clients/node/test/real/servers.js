// servers.js -- private servers for the real-server failure tests: a
// redis-server and an `authstore serve --api.port 0` of their own, so that a
// test may pause Redis (SIGSTOP) or kill authstore without disturbing the
// tests that share the server of scripts/ctest.sh. Needs AUTHSTORE_BINARY
// (the authstore executable; CTest sets it) and redis-server on PATH.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

export const BINARY = process.env.AUTHSTORE_BINARY

/// false when private servers can be started, else why not (the `skip`
/// option; worded so that CTest's skip pattern does NOT match: these run
/// whenever the shared server runs under ctest.sh, which sets both).
export function privateServersSkip() {
  if (!process.env.AUTHSTORE_TEST_API_URL) return 'real-server tests NOT run: AUTHSTORE_TEST_API_URL is not set'
  if (!BINARY) return 'failure-path tests need AUTHSTORE_BINARY (the authstore executable)'
  if (spawnSync('redis-server', ['--version']).status !== 0) return 'failure-path tests need redis-server on PATH'
  return false
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitFor(check, ms, what) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`not within ${ms} ms: ${what}`)
}

/// A private redis-server; stop() kills it by pid (after SIGCONT).
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'authstore-node-redis-'))
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir], { stdio: 'ignore' })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await waitFor(() => spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG',
    5000, 'redis-server answers PING')
  return {
    url: `redis://127.0.0.1:${port}/0`,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/// `authstore serve --api.port 0 --redis URL ARGS...` with `secret`;
/// resolves once its API port is printed. kill() is SIGKILL, by pid.
export async function startServe(redisUrl, secret, args = []) {
  const child = spawn(BINARY, ['serve', '--port', '0', '--redis', redisUrl, '--api.port', '0', ...args],
    { env: { ...process.env, AUTHSTORE_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const lines = createInterface({ input: child.stdout })
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its API port in 20 s: ${stderr}`)), 20_000)
    lines.on('line', (line) => {
      const m = /^authstore: api listening on .*:(\d+)$/.exec(line)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)))
  })
  lines.on('line', () => {})
  return {
    url: `http://127.0.0.1:${port}`,
    async kill() {
      child.kill('SIGKILL')
      await exited
    }
  }
}

/// tests/mongowire/mini_mongod.py (a MongoDB wire server in Python: no real
/// MongoDB exists on these machines) on a free port with a fresh data file.
/// `authstore serve` checks its cold store before it listens, so a test of a
/// cold store that is down starts it, starts serve, then kill()s it.
export async function startMiniMongod() {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
  const dir = mkdtempSync(join(tmpdir(), 'authstore-mini-'))
  const child = spawn('/usr/bin/python3',
    [join(repo, 'tests/mongowire/mini_mongod.py'), '--data-file', join(dir, 'data'), '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const lines = createInterface({ input: child.stdout })
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mini_mongod did not print its port in 10 s: ${stderr}`)), 10_000)
    lines.once('line', (line) => { clearTimeout(timer); resolve(Number(line)) })
    child.once('exit', (code) => reject(new Error(`mini_mongod exited (${code}): ${stderr}`)))
  })
  lines.on('line', () => {})
  let killed = false
  return {
    port,
    async kill() {
      if (!killed) {
        killed = true
        child.kill('SIGKILL')
        await exited
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
