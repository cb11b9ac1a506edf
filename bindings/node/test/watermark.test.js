'use strict'
// The coefficient watermark from Node: written by compress, read back by readWatermark under its key
// only; Pillow and the other judges are in tests/python/test_watermark.py.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')
const input = fs.readFileSync(path.join(CORPUS, 'jpeg/exif-org_fujifilm-dx10.jpg'))

test('a mark written by compress reads back under its key only', async () => {
  const before = Math.floor(Date.now() / 1000)
  const out = await pixpress.compress(input, { format: 'jpeg', watermark: 'on', watermark_key: 'node key', watermark_data: 'from node' })
  const mark = await pixpress.readWatermark(out.data, { key: 'node key' })
  assert.equal(mark.state, 'found')
  assert.equal(Buffer.from(mark.data).toString(), 'from node')
  assert.equal(mark.source.length, 8)
  assert.ok(mark.time >= before && mark.time <= Date.now() / 1000 + 1, `time ${mark.time}`)
  assert.deepEqual(pixpress.readWatermarkSync(out.data, { key: 'node key' }), mark)
  assert.equal(pixpress.readWatermarkSync(out.data).state, 'absent')
  assert.equal((await pixpress.readWatermark(input, { key: 'node key' })).state, 'absent')
  await assert.rejects(pixpress.compress(input, { format: 'webp', watermark: 'on' }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT' && /watermark/.test(e.message))
  await assert.rejects(pixpress.readWatermark(Buffer.from('not an image')), (e) => e.code === 'PXP_ERR_UNSUPPORTED_FORMAT')
})
