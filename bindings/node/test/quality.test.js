'use strict'
// Quality from Node: score/scoreSync and the target option with its search report.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')

test('score and a target search agree, and bad requests have codes', async () => {
  const ref = pixpress.compressSync(fs.readFileSync(path.join(CORPUS, 'jpeg/Landscape_1.jpg')), { format: 'png' }).data
  const out = await pixpress.compress(ref, { format: 'webp', target: 'ssimulacra2=75' })
  assert.ok(out.search.score >= 75, JSON.stringify(out.search))
  assert.equal(out.search.bytes, out.data.length)
  assert.equal(out.search.metric, 'ssimulacra2')
  const scored = await pixpress.score(ref, out.data)
  assert.ok(Math.abs(scored - out.search.score) < 1e-9)
  assert.equal(pixpress.scoreSync(ref, ref, 'psnr'), Infinity)
  assert.ok(pixpress.scoreSync(ref, out.data, 'ssim') > 0.9)
  assert.equal(pixpress.compressSync(ref, { format: 'webp', quality: 70 }).search, undefined)
  await assert.rejects(pixpress.compress(ref, { format: 'jpeg', target: 'size=100' }), { code: 'PXP_ERR_TARGET_UNREACHABLE' })
  await assert.rejects(pixpress.score(ref, out.data, 'butteraugli'), { code: 'PXP_ERR_INVALID_ARGUMENT' })
  assert.throws(() => pixpress.scoreSync(ref, Buffer.from('nope')), { code: 'PXP_ERR_UNSUPPORTED_FORMAT' })
})
