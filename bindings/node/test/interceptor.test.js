'use strict'
// Interceptors, restore records and in-place rewrites from Node, judged by exiftool.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')
const SOURCE = path.join(CORPUS, 'jpeg/gps_DSCN0010.jpg')
const NOT_METADATA = ['SourceFile', 'File:', 'System:', 'Composite:', 'ExifTool:']

function tagsOf (data, ext) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-')), `out.${ext}`)
  fs.writeFileSync(file, data)
  const all = JSON.parse(execFileSync('exiftool', ['-j', '-a', '-G0:1', file]))[0]
  return Object.fromEntries(Object.entries(all).filter(([k]) => !NOT_METADATA.some((p) => k.startsWith(p))))
}

const edit = (seen) => (view) => {
  seen.push(view)
  return { set: { 'EXIF:IFD0:Artist': 'Node Interceptor', 'XMP:dc:rights': 'CC0' }, remove: ['EXIF:IFD0:Software'] }
}

test('an interceptor edits the metadata of async and sync compressions', async () => {
  const input = fs.readFileSync(SOURCE)
  for (const fmt of ['jpeg', 'webp']) {
    const seen = []
    const out = await pixpress.compress(input, { format: fmt, resize: [320, 320], interceptor: edit(seen) })
    const sync = pixpress.compressSync(input, { format: fmt, resize: [320, 320], interceptor: edit(seen) })
    assert.deepEqual(out.data, sync.data)
    const tags = tagsOf(out.data, fmt)
    assert.equal(tags['EXIF:IFD0:Artist'], 'Node Interceptor')
    assert.equal(tags['XMP:XMP-dc:Rights'], 'CC0')
    assert.equal(tags['EXIF:IFD0:Software'], undefined)
    assert.equal(seen.length, 2)
    assert.equal(seen[0].format, fmt)
    assert.deepEqual([seen[0].width, seen[0].height], [out.width, out.height])
    assert.ok(seen[0].fields.some((f) => f.block === 'EXIF' && f.name === 'Software'))
  }
})

test('an interceptor that throws or edits badly fails the call and writes nothing', async () => {
  const input = fs.readFileSync(SOURCE)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-'))
  const dst = path.join(dir, 'out.jpg')
  const throws = () => { throw new Error('refused by policy') }
  await assert.rejects(pixpress.compressFile(SOURCE, dst, { interceptor: throws }), (e) => e.code === 'PXP_ERR_INTERCEPTOR' && /refused by policy/.test(e.message))
  assert.deepEqual(fs.readdirSync(dir), [])
  assert.throws(() => pixpress.compressSync(input, { interceptor: throws }), { code: 'PXP_ERR_INTERCEPTOR' })
  await assert.rejects(pixpress.compress(input, { interceptor: () => ({ set: { 'EXIF:IFD0:NoSuchTag': 'x' } }) }), { code: 'PXP_ERR_INTERCEPTOR' })
  await assert.rejects(pixpress.compress(input, { interceptor: 'no' }), { code: 'PXP_ERR_INVALID_ARGUMENT' })
})

test('an interceptor that returns a Promise is refused, never read as no edits', async () => {
  const input = fs.readFileSync(SOURCE)
  const later = async () => ({ set: { 'EXIF:IFD0:Artist': 'too late' } })
  await assert.rejects(pixpress.compress(input, { format: 'jpeg', interceptor: later }), (e) => e.code === 'PXP_ERR_INTERCEPTOR' && /Promise/.test(e.message))
  assert.throws(() => pixpress.compressSync(input, { format: 'jpeg', interceptor: later }), (e) => e.code === 'PXP_ERR_INTERCEPTOR' && /Promise/.test(e.message))
})

test('100 concurrent compressions each get their own interceptor answers', async () => {
  const input = fs.readFileSync(SOURCE)
  const outs = await Promise.all(Array.from({ length: 100 }, (_, i) => pixpress.compress(input, {
    format: 'jpeg', resize: [64, 64], effort: 0, interceptor: () => ({ set: { 'EXIF:IFD0:Artist': `caller ${i}` } }),
  })))
  for (const [i, out] of outs.entries()) {
    const artist = (await pixpress.readMetadata(out.data)).find((f) => f.name === 'Artist')
    assert.equal(artist.value, `caller ${i}`)
  }
})

test('a restore record puts back what the web policy removed, and rewriteMetadata works in place', async () => {
  const input = fs.readFileSync(SOURCE)
  const keep = await pixpress.compress(input, { format: 'webp' })
  const web = await pixpress.compress(input, { format: 'webp', metadata: 'web', restore_record: true })
  assert.ok(web.metadata.restoreRecord.length > 0)
  const restored = await pixpress.restoreMetadata(web.data, web.metadata.restoreRecord)
  assert.deepEqual(tagsOf(restored.data, 'webp'), tagsOf(keep.data, 'webp'))
  const rewritten = await pixpress.rewriteMetadata(input, { metadata: 'web,gps=10km', provenance: true })
  const tags = tagsOf(rewritten.data, 'jpg')
  assert.ok(tags['EXIF:GPS:GPSLatitude'] && tags['EXIF:GPS:GPSLatitude'] !== tagsOf(input, 'jpg')['EXIF:GPS:GPSLatitude'])
  assert.ok(tags['XMP:XMP-pixpress:SourceBLAKE3'])
  assert.deepEqual(rewritten.metadata.changed, ['EXIF:GPS:GPSLatitude', 'EXIF:GPS:GPSLongitude'])
  await assert.rejects(pixpress.restoreMetadata(web.data, Buffer.from('junk')), { code: 'PXP_ERR_INVALID_ARGUMENT' })
})
