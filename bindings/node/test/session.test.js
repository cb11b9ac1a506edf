'use strict'
// pixpress.Session from Node: run with progress events, resume, AbortSignal, failures and retry.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')

function job() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-node-session-'))
  const src = path.join(root, 'in')
  fs.cpSync(path.join(CORPUS, 'gif'), path.join(src, 'gif'), { recursive: true })
  fs.copyFileSync(path.join(CORPUS, 'jpeg/hopper.jpg'), path.join(src, 'hopper.jpg'))
  fs.writeFileSync(path.join(src, 'broken.jpg'), Buffer.from('\xff\xd8\xff\xe0 broken', 'latin1'))
  return { root, src, out: path.join(root, 'out') }
}

test('a session runs with progress events, then resumes with everything verified', async () => {
  const { root, src, out } = job()
  const session = new pixpress.Session([src], out, { format: 'webp', quality: 70, resize: [64, 64], jobs: 2 })
  const events = []
  session.on('progress', (p) => events.push(p))
  const status = await session.run({ interval: 5 })
  assert.equal(status.pending, 0)
  assert.equal(status.failed, 1)
  assert.equal(status.done, status.total - 1)
  assert.ok(events.length >= 1 && events.at(-1).done === status.done, 'progress reached the end')
  assert.deepEqual(session.failures().map((f) => [path.basename(f.input), f.code]), [['broken.jpg', 'PXP_ERR_TRUNCATED']])
  const out1 = fs.readFileSync(path.join(out, 'hopper.webp'))
  assert.equal(pixpress.probe(out1).format, 'webp')

  // One handle at a time: a second is refused until the first is closed.
  assert.throws(() => pixpress.Session.open(path.join(out, '.pixpress-session')), (e) => e.code === 'PXP_ERR_IO' && /in use by process/.test(e.message))
  session.close()
  assert.throws(() => session.failures(), { code: 'PXP_ERR_INVALID_ARGUMENT' })
  const again = pixpress.Session.open(path.join(out, '.pixpress-session'))
  const second = await again.run()
  assert.equal(second.done, status.done)
  assert.equal(again.status().lastOutcome, 'verified')
  assert.deepEqual(fs.readFileSync(path.join(out, 'hopper.webp')), out1)
  fs.rmSync(root, { recursive: true })
})

test('an AbortSignal cancels a run with PXP_ERR_CANCELLED; retryFailed and a different job', async () => {
  const { root, src, out } = job()
  const session = new pixpress.Session(src, out, { format: 'png', jobs: 1 })
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(session.run({ signal: controller.signal }), { code: 'PXP_ERR_CANCELLED' })
  const live = new AbortController()
  const running = session.run({ signal: live.signal })
  assert.throws(() => session.failures(), { code: 'PXP_ERR_INVALID_ARGUMENT' }, 'busy while running, never blocking')
  live.abort()
  await running.catch((e) => assert.equal(e.code, 'PXP_ERR_CANCELLED'))
  await session.run()
  assert.equal(session.retryFailed(), 1)
  session.close()
  assert.throws(() => new pixpress.Session(src, out, { format: 'avif' }), { code: 'PXP_ERR_INVALID_ARGUMENT' })
  assert.throws(() => new pixpress.Session(src, path.join(root, 'o2'), { quality: 500 }), { code: 'PXP_ERR_INVALID_ARGUMENT' })
  fs.rmSync(root, { recursive: true })
})
