'use strict'
// Metadata from Node: policies with their report, readMetadata and diffMetadata, judged by exiftool.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')

function exiftool (file, ...tags) {
  return JSON.parse(execFileSync('exiftool', ['-j', '-n', ...tags, file]))[0]
}

test('the web policy removes GPS from EXIF and XMP and says so', async () => {
  const input = path.join(CORPUS, 'jpeg/gps_DSCN0010.jpg')
  const out = await pixpress.compress(fs.readFileSync(input), { format: 'avif', metadata: 'web', resize: '320x' })
  assert.ok(out.metadata.removed.includes('EXIF:GPS:GPSLatitude'), out.metadata.removed.join(', '))
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-')), 'out.avif')
  fs.writeFileSync(file, out.data)
  const tags = exiftool(file, '-a', '-G1', '-gps:all', '-xmp:all', '-Make', '-ExifImageWidth')
  assert.deepEqual(Object.keys(tags).filter((k) => k.includes('GPS')), [])
  assert.equal(tags['IFD0:Make'], exiftool(input, '-Make').Make)
  assert.equal(tags['ExifIFD:ExifImageWidth'], out.width)
  assert.throws(() => pixpress.compressSync(fs.readFileSync(input), { format: 'png', metadata: 'web,-Nonsense' }), { code: 'PXP_ERR_INVALID_ARGUMENT' })
})

test('readMetadata agrees with exiftool and diffMetadata sees IPTC move to XMP', async () => {
  const input = path.join(CORPUS, 'jpeg/iptc.jpg')
  const data = fs.readFileSync(input)
  const fields = await pixpress.readMetadata(data)
  const value = (block, name) => fields.find((f) => f.block === block && f.name === name).value
  const judge = exiftool(input, '-Make', '-City')
  assert.equal(value('EXIF', 'Make'), judge.Make)
  assert.equal(value('IPTC', 'City'), judge.City)
  assert.deepEqual(pixpress.readMetadataSync(data), fields)
  const webp = pixpress.compressSync(data, { format: 'webp' })
  const diff = await pixpress.diffMetadata(data, webp.data)
  assert.ok(diff.moved.some((m) => m.before.name === 'City' && m.after.group === 'photoshop'), JSON.stringify(diff.moved))
  assert.deepEqual(pixpress.diffMetadataSync(data, webp.data), diff)
  await assert.rejects(pixpress.readMetadata(Buffer.from('nope')), { code: 'PXP_ERR_UNSUPPORTED_FORMAT' })
})
