'use strict'
// The Node package, with node's built-in test runner: `node --test test/`.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')
const rows = fs
  .readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t'))
  .map(([file, bytes, , , , width, height, format, flags]) => ({ file, bytes: +bytes, width: +width, height: +height, format, flags }))
const good = rows.filter((r) => !r.file.startsWith('bad/'))
const bad = rows.filter((r) => r.file.startsWith('bad/'))
const read = (file) => fs.readFileSync(path.join(CORPUS, file))
const PHOTO = 'jpeg/flickr_2569067123_aca715a2ee_o.jpg'
// The status each bad/ file must be refused with, shared by every face's tests.
const BAD_STATUS = new Map(
  fs
    .readFileSync(path.resolve(__dirname, '../../../tests/bad_status.tsv'), 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('path\t'))
    .map((line) => line.split('\t').slice(0, 2)),
)

test('every corpus file round-trips to each output format, and probe agrees with MANIFEST.tsv', async () => {
  for (const row of good) {
    const input = read(row.file)
    const info = pixpress.probe(input)
    assert.deepEqual([info.width, info.height], [row.width, row.height], row.file)
    for (const format of ['jpeg', 'png', 'webp', 'avif']) {
      const out = await pixpress.compress(input, { format, effort: 0, resize: [512, 512] })
      assert.equal(out.format, format, row.file)
      const back = pixpress.probe(out.data)
      assert.equal(back.format, format, row.file)
      assert.deepEqual([back.width, back.height], [out.width, out.height], `${row.file} -> ${format}`)
      assert.ok(out.width <= 512 && out.height <= 512)
    }
  }
})

test('the event loop stays responsive while 4 large compressions run', async () => {
  const input = read(PHOTO)
  let worst = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - 10)
    last = now
  }, 10)
  const started = performance.now()
  await Promise.all(Array.from({ length: 4 }, () => pixpress.compress(input, { format: 'webp', quality: 80 })))
  const elapsed = performance.now() - started
  clearInterval(timer)
  assert.ok(elapsed > 300, `the work took only ${elapsed} ms`)
  assert.ok(worst < 50, `worst timer delay ${worst.toFixed(1)} ms`)
})

test('outputs are external buffers: arrayBuffers grows by the outputs only', async () => {
  const big = Buffer.concat([read('jpeg/hopper.jpg'), Buffer.alloc(64 * 1024 * 1024)]) // trailing bytes after EOI are ignored
  global.gc?.()
  const before = process.memoryUsage().arrayBuffers
  const outs = []
  for (let i = 0; i < 4; i++) outs.push(await pixpress.compress(big, { format: 'webp' }))
  const grown = process.memoryUsage().arrayBuffers - before
  const outputs = outs.reduce((n, o) => n + o.data.length, 0)
  assert.ok(grown < outputs + 1024 * 1024, `arrayBuffers grew by ${grown} for ${outputs} output bytes (input ${big.length})`)
  // A Uint8Array view over a larger ArrayBuffer is taken too.
  const view = new Uint8Array(big.buffer, big.byteOffset, big.byteLength)
  assert.equal((await pixpress.compress(view, { format: 'png' })).width, 128)
})

test('an input whose memory is transferred and overwritten while its task waits is not read', async () => {
  const photo = read(PHOTO)
  const original = read('jpeg/hopper.jpg')
  const expected = await pixpress.compress(original, { format: 'png' })
  // Four long tasks fill the libuv pool (4 threads by default), so the
  // fifth waits in the queue while its input's ArrayBuffer is moved away
  // with structuredClone's transfer list and filled with zeros there.
  const busy = Array.from({ length: 4 }, () => pixpress.compress(photo, { format: 'avif' }))
  const input = Buffer.alloc(original.length)
  original.copy(input)
  const pending = pixpress.compress(input, { format: 'png' })
  const moved = structuredClone(input.buffer, { transfer: [input.buffer] })
  assert.equal(input.length, 0, 'the Buffer is detached')
  new Uint8Array(moved).fill(0)
  const out = await pending
  assert.ok(out.data.equals(expected.data), 'the output is that of the bytes given at the call')
  await Promise.all(busy)
})

test('100 concurrent compressions of mixed inputs equal the same work done one by one', async () => {
  const files = ['jpeg/hopper.jpg', 'png/hopper.png', 'webp/hopper.webp', 'gif/hopper.gif', 'tiff/hopper.tif', 'avif/hopper.avif', 'jpeg/Landscape_6.jpg', 'heic/RGBA_10bit_128x128.heif']
  const jobs = Array.from({ length: 100 }, (_, i) => ({ input: read(files[i % files.length]), format: ['jpeg', 'webp', 'png'][i % 3] }))
  const serial = []
  for (const job of jobs) serial.push((await pixpress.compress(job.input, { format: job.format, resize: [96, 96] })).data)
  const parallel = await Promise.all(jobs.map((job) => pixpress.compress(job.input, { format: job.format, resize: [96, 96] })))
  parallel.forEach((out, i) => assert.ok(out.data.equals(serial[i]), `job ${i} differs`))
})

test('every bad/ file rejects with a typed code and a message', async () => {
  for (const row of bad) {
    await assert.rejects(pixpress.compress(read(row.file), { format: 'jpeg' }), (error) => {
      assert.equal(error.code, BAD_STATUS.get(row.file), `${row.file}: ${error.message}`)
      assert.ok(error instanceof Error && error.message.length > 20, row.file)
      return true
    })
    assert.throws(() => pixpress.compressSync(read(row.file), { format: 'jpeg' }), { code: BAD_STATUS.get(row.file) })
  }
})

test('options errors name the key; bad input types are typed errors', async () => {
  const input = read('jpeg/hopper.jpg')
  await assert.rejects(pixpress.compress(input, { qualty: 80 }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT' && /qualty/.test(e.message))
  await assert.rejects(pixpress.compress('not a buffer'), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT')
  const out = pixpress.compressSync(input, { format: 'jpeg', quality: 70, resize: { width: 64 } })
  assert.deepEqual([out.format, out.width, out.height], ['jpeg', 64, 64])
  // The addon turns every JavaScript value into the core's: a pair with a free side, null (the
  // default), a list of names; an array that is neither is refused naming the key.
  const pair = pixpress.compressSync(input, { format: 'jpeg', quality: null, resize: [48, null] })
  assert.deepEqual([pair.width, pair.height], [48, 48])
  assert.deepEqual(pair.data, pixpress.compressSync(input, { format: 'jpeg', resize: '48x' }).data)
  const auto = await pixpress.compress(input, { format: 'auto', formats: ['png'], resize: [32, 32] })
  assert.equal(auto.format, 'png')
  assert.throws(() => pixpress.compressSync(input, { resize: [1, 2, 3] }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT' && /resize/.test(e.message))
  assert.throws(() => pixpress.compressSync(input, { resize: [-1, 2] }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT' && /resize/.test(e.message))
})

test('compressToFile and compressFile write the restore record beside the output when asked', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpress-'))
  try {
    const src = path.join(dir, 'in.jpg')
    fs.writeFileSync(src, read('jpeg/Olympus_C8080WZ.jpg'))
    for (const [name, write] of [
      ['to-file.jpg', (dst) => pixpress.compressToFile(read('jpeg/Olympus_C8080WZ.jpg'), dst, { metadata: 'strip', restore_record: true })],
      ['file.jpg', (dst) => pixpress.compressFile(src, dst, { metadata: 'strip', restore_record: true })],
    ]) {
      const dst = path.join(dir, name)
      const out = await write(dst)
      assert.ok(out.metadata.restoreRecord, `${name}: a record was made`)
      assert.deepEqual(fs.readFileSync(`${dst}.pxpr`), Buffer.from(out.metadata.restoreRecord), name)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('an AbortSignal cancels with PXP_ERR_CANCELLED', async () => {
  const input = read(PHOTO)
  await assert.rejects(pixpress.compress(input, { format: 'webp', signal: AbortSignal.abort() }), (e) => e.code === 'PXP_ERR_CANCELLED')
  const controller = new AbortController()
  const running = pixpress.compress(input, { format: 'avif', signal: controller.signal })
  setTimeout(() => controller.abort(), 5)
  await assert.rejects(running, (e) => e.code === 'PXP_ERR_CANCELLED')
})

test('toFile from a Buffer never writes through a planted symlink, and compressFile never replaces its input', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpress-'))
  const victim = path.join(dir, 'victim.txt')
  fs.writeFileSync(victim, 'precious')
  // An attacker who can write the output directory plants links under every
  // temporary name a pid-and-clock scheme would use in the next seconds.
  const start = Date.now()
  for (let t = start - 1000; t < start + 20000; t++) {
    fs.symlinkSync(victim, path.join(dir, `.out.jpg.${process.pid}.${t}.tmp`))
  }
  fs.symlinkSync(victim, path.join(dir, 'out.jpg'))
  const written = await pixpress(read('png/hopper.png')).jpeg({ quality: 80 }).toFile(path.join(dir, 'out.jpg'))
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious')
  assert.ok(fs.lstatSync(path.join(dir, 'out.jpg')).isFile(), 'the link at the output is replaced by the file')
  assert.equal(fs.statSync(path.join(dir, 'out.jpg')).size, written.size)
  assert.equal(pixpress.probe(fs.readFileSync(path.join(dir, 'out.jpg'))).format, 'jpeg')
  const own = path.join(dir, 'own.png')
  fs.copyFileSync(path.join(CORPUS, 'png/hopper.png'), own)
  await assert.rejects(pixpress.compressFile(own, own, { format: 'png' }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT')
  assert.deepEqual(fs.readFileSync(own), read('png/hopper.png'))
  fs.rmSync(dir, { recursive: true })
})

test('the error codes in index.d.ts are the core\'s error kinds', () => {
  const dts = fs.readFileSync(path.resolve(__dirname, '../index.d.ts'), 'utf8')
  const union = dts.slice(dts.indexOf('export type ErrorCode'), dts.indexOf('\n\n', dts.indexOf('export type ErrorCode')))
  const typed = [...union.matchAll(/'(PXP_ERR_[A-Z_]+)'/g)].map((m) => m[1]).sort()
  assert.deepEqual(typed, [...pixpress.errorCodes()].sort())
})

test('the sharp-style fluent form and atomic files', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpress-'))
  const { data, info } = await pixpress(read(PHOTO)).resize(720, 588).jpeg({ quality: 80 }).toBuffer({ resolveWithObject: true })
  assert.deepEqual([info.format, info.width, info.height, info.size], ['jpeg', 720, 588, data.length])
  const kept = await pixpress(read('jpeg/Landscape_6.jpg')).keepMetadata().webp().toBuffer()
  const stripped = await pixpress(read('jpeg/Landscape_6.jpg')).webp().toBuffer()
  assert.ok(pixpress.probe(kept).hasExif && !pixpress.probe(stripped).hasExif)
  const written = await pixpress(path.join(CORPUS, 'png/hopper.png')).avif({ quality: 50 }).toFile(path.join(dir, 'a.avif'))
  assert.equal(fs.statSync(path.join(dir, 'a.avif')).size, written.size)
  // sharp's chroma values only; a JPEG after an AVIF setting is 4:2:0 again, as in sharp.
  assert.throws(() => pixpress(read(PHOTO)).avif({ chromaSubsampling: '4:2:2' }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT')
  const jpeg = await pixpress(read(PHOTO)).avif().jpeg().toBuffer()
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0])) >= 0 ? jpeg.indexOf(Buffer.from([0xff, 0xc0])) : jpeg.indexOf(Buffer.from([0xff, 0xc2]))
  assert.equal(jpeg[sof + 11], 0x22) // luma sampling factors 2x2: 4:2:0
  await assert.rejects(pixpress.compressFile(path.join(CORPUS, 'bad/truncated.jpg'), path.join(dir, 'b.webp'), { format: 'webp' }), (e) => e.code === 'PXP_ERR_TRUNCATED')
  assert.deepEqual(fs.readdirSync(dir), ['a.avif'])
  fs.rmSync(dir, { recursive: true })
})

test('ESM import gives the same API', async () => {
  const esm = await import('../index.mjs')
  assert.equal(esm.default, pixpress)
  for (const name of ['compress', 'compressSync', 'score', 'analyze', 'analyzeSync', 'readMetadata', 'diffMetadata']) {
    assert.equal(esm[name], pixpress[name], name)
  }
  assert.equal(esm.version, pixpress.version)
})

test('capabilities() reports what the build encodes, with each library', async () => {
  const caps = pixpress.capabilities()
  const esm = await import('../index.mjs')
  assert.equal(esm.capabilities, pixpress.capabilities)
  for (const format of ['jpeg', 'png', 'webp', 'avif']) assert.ok(caps.encode.includes(format), format)
  for (const format of ['jpeg', 'png', 'webp', 'avif', 'heic', 'gif', 'tiff']) assert.ok(caps.decode.includes(format), format)
  // Every listed encoder works; an unlisted one refuses with a typed error.
  const png = fs.readFileSync(path.join(CORPUS, good.find((r) => r.format === 'PNG').file))
  for (const format of ['jpeg', 'png', 'webp', 'avif', 'heic']) {
    if (caps.encode.includes(format)) assert.equal(pixpress.compressSync(png, { format, resize: '64x64' }).format, format)
    else assert.throws(() => pixpress.compressSync(png, { format }), (e) => e.code.startsWith('PXP_ERR_'))
  }
  const names = caps.libraries.map((l) => l.name).join(' ')
  for (const name of ['libheif', 'mozjpeg', 'libwebp', 'lcms2', 'dav1d', 'libde265']) assert.match(names, new RegExp(name))
  for (const l of caps.libraries) assert.match(l.license, /^[A-Za-z0-9.+-]+( (AND|OR) [A-Za-z0-9.+-]+)*$/)
})
