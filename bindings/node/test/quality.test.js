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

test('format auto keeps the smallest candidate; analyze gives points, the front and SVG', async () => {
  const ref = pixpress.compressSync(fs.readFileSync(path.join(CORPUS, 'jpeg/jolla.jpg')), { format: 'png', resize: [480, 480] }).data
  const out = await pixpress.compress(ref, { format: 'auto', formats: ['jpeg', 'webp'], target: 'ssimulacra2=70' })
  assert.deepEqual(out.candidates.map((c) => c.format), ['jpeg', 'webp'])
  const sizes = out.candidates.map((c) => c.search.bytes)
  assert.equal(out.data.length, Math.min(...sizes))
  assert.ok((await pixpress.score(ref, out.data)) >= 70)
  assert.equal(pixpress.probe(out.data).format, out.format)

  const analysis = await pixpress.analyze(ref, { formats: 'webp', resize: '240x240' })
  assert.equal(analysis.metric, 'ssimulacra2')
  assert.deepEqual([...new Set(analysis.points.map((p) => p.format))], ['webp', 'png'])
  const q80 = analysis.points.find((p) => p.format === 'webp' && p.quality === 80)
  const again = pixpress.compressSync(ref, { format: 'webp', quality: 80, resize: '240x240' })
  assert.equal(again.data.length, q80.bytes)
  assert.ok(analysis.front.every((p) => p.pareto))
  assert.ok(analysis.svg.startsWith('<svg'))
  const sync = pixpress.analyzeSync(ref, { formats: 'webp', resize: '240x240' })
  assert.deepEqual(sync.points.map((p) => p.bytes), analysis.points.map((p) => p.bytes))
  await assert.rejects(pixpress.analyze(Buffer.from('nope')), { code: 'PXP_ERR_UNSUPPORTED_FORMAT' })
})

test('tune searches WebP sharp_yuv and sns besides quality and reports the choice', async () => {
  const ref = pixpress.compressSync(fs.readFileSync(path.join(CORPUS, 'jpeg/Landscape_1.jpg')), { format: 'png' }).data
  const plain = await pixpress.compress(ref, { format: 'webp', target: 'ssimulacra2=70' })
  const tuned = await pixpress.compress(ref, { format: 'webp', target: 'ssimulacra2=70', tune: ['sharp_yuv', 'sns'] })
  assert.deepEqual(Object.keys(tuned.search.tuned).sort(), ['sharp_yuv', 'sns'])
  assert.ok(tuned.data.length <= plain.data.length)
  assert.ok((await pixpress.score(ref, tuned.data)) >= 70)
  await assert.rejects(pixpress.compress(ref, { tune: 'speed' }), { code: 'PXP_ERR_INVALID_ARGUMENT' })
})
