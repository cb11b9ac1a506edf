'use strict'
// Live metrics from Node: the Prometheus text parses line by line (HELP, TYPE,
// samples of declared families) and, with stats(), counts exactly the calls
// made here, concurrent ones on the libuv pool included.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')

/** Parses exposition text into { types, samples: Map(series -> value) }, failing on any malformed line. */
function scrape () {
  const types = new Map()
  const samples = new Map()
  for (const line of pixpress.metricsPrometheus().split('\n')) {
    if (line === '') continue
    let m
    if ((m = /^# HELP (pixpress_[a-z_]+) \S.*$/.exec(line))) continue
    if ((m = /^# TYPE (pixpress_[a-z_]+) (counter|gauge|histogram)$/.exec(line))) {
      if (m[2] === 'counter') assert.match(m[1], /_total$/)
      types.set(m[1], m[2])
      continue
    }
    m = /^(pixpress_[a-z_]+)(\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})? (\S+)$/.exec(line)
    assert.ok(m, `malformed line: ${line}`)
    const family = types.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, '')
    assert.ok(types.has(family), `undeclared family: ${line}`)
    const value = Number(m[3] === '+Inf' ? Infinity : m[3])
    assert.ok(!Number.isNaN(value), line)
    samples.set(m[1] + (m[2] || ''), value)
  }
  return { types, samples }
}

test('the Prometheus text parses and counts the calls made', async () => {
  const png = fs.readFileSync(path.join(CORPUS, 'png/L_16.png'))
  const before = scrape()
  const outputs = await Promise.all(Array.from({ length: 6 }, () => pixpress.compress(png, { format: 'webp', quality: 70 })))
  await assert.rejects(pixpress.compress(Buffer.from('not an image'), { format: 'webp' }), { code: 'PXP_ERR_UNSUPPORTED_FORMAT' })
  const after = scrape()
  const delta = (series) => after.samples.get(series) - (before.samples.get(series) || 0)
  assert.equal(after.types.get('pixpress_stage_duration_seconds'), 'histogram')
  assert.equal(delta('pixpress_images_total'), 6)
  assert.equal(delta('pixpress_input_bytes_total'), 6 * png.length)
  assert.equal(delta('pixpress_output_bytes_total'), outputs.reduce((n, o) => n + o.data.length, 0))
  assert.equal(delta('pixpress_errors_total{kind="PXP_ERR_UNSUPPORTED_FORMAT"}'), 1)
  assert.equal(delta('pixpress_stage_duration_seconds_count{stage="encode"}'), 6)
  assert.equal(after.samples.get('pixpress_operations_in_flight'), 0)
  const stats = pixpress.stats()
  assert.equal(stats.images, after.samples.get('pixpress_images_total'))
  assert.equal(stats.errors.PXP_ERR_UNSUPPORTED_FORMAT, after.samples.get('pixpress_errors_total{kind="PXP_ERR_UNSUPPORTED_FORMAT"}'))
  assert.equal(stats.stages.decode.count, after.samples.get('pixpress_stage_duration_seconds_count{stage="decode"}'))
  assert.equal(after.samples.get('pixpress_stage_duration_seconds_bucket{stage="decode",le="+Inf"}'), stats.stages.decode.count)
})

test('buffer pools serve a repeated compression, count it in the text, and empty at limit 0', async () => {
  const photo = fs.readFileSync(path.join(CORPUS, 'jpeg/jolla.jpg'))
  assert.equal(pixpress.stats().pool.limitBytes, 0)
  pixpress.setBufferPoolLimit(64 * 1024 * 1024)
  await pixpress.compress(photo, { format: 'jpeg', effort: 0, resize: '1600x1600' })
  const before = pixpress.stats().pool
  await pixpress.compress(photo, { format: 'jpeg', effort: 0, resize: '1600x1600' })
  const after = pixpress.stats().pool
  assert.ok(after.hits > before.hits, `${before.hits} -> ${after.hits}`)
  assert.equal(after.limitBytes, 64 * 1024 * 1024)
  assert.equal(scrape().samples.get('pixpress_pool_hits_total'), after.hits)
  pixpress.setBufferPoolLimit(0)
  try {
    assert.equal(pixpress.stats().pool.heldBytes, 0)
    assert.equal(scrape().samples.get('pixpress_pool_held_bytes'), 0)
  } finally {
    pixpress.setBufferPoolLimit(0)
  }
})

test('a memory budget admits one compression at a time and never goes over', async () => {
  const png = fs.readFileSync(path.join(CORPUS, 'png/L_16.png'))
  const big = pixpress.compressSync(png, { format: 'jpeg', resize: '1600x1600', fit: 'exact', enlarge: true }).data
  const budget = 1600 * 1600 * 3 * 3
  pixpress.setMemoryBudget(budget)
  try {
    await Promise.all(Array.from({ length: 4 }, () => pixpress.compress(big, { format: 'webp' })))
    const s = pixpress.stats()
    assert.equal(s.memoryBudget, budget)
    assert.equal(s.memoryAdmitted, 0)
    assert.ok(s.memoryAdmittedPeak >= 1600 * 1600 * 3 * 2.5 && s.memoryAdmittedPeak <= budget, String(s.memoryAdmittedPeak))
    assert.match(pixpress.metricsPrometheus(), new RegExp(`^pixpress_memory_budget_bytes ${budget}$`, 'm'))
  } finally {
    pixpress.setMemoryBudget()
  }
  assert.equal(pixpress.stats().memoryBudget, undefined)
})
