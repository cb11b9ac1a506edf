'use strict'
// pixpress against sharp in one run, 1 and 2 operations in flight.
//   cd bindings/node/bench && npm install && RAYON_NUM_THREADS=1 node bench.js
// ops/s, output bytes, and SSIMULACRA2 (scored by score.py with the `ssimulacra2`
// PyPI package against the same reference for both libraries).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const sharp = require('sharp')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')
const PHOTO = path.join(CORPUS, 'jpeg/flickr_2569067123_aca715a2ee_o.jpg')
const input = fs.readFileSync(PHOTO)
sharp.cache(false)
sharp.concurrency(1) // one libvips thread per image, as pixpress with RAYON_NUM_THREADS=1

const rows = [
  ['resize 720x588 + JPEG q80 (sharp benchmark)', 'resize', [
    ['sharp (mozjpeg build, default settings)', () => sharp(input).resize(720, 588, { kernel: 'lanczos3' }).jpeg({ quality: 80 }).toBuffer()],
    ['pixpress fluent, sharp\'s defaults (baseline, effort 0)', () => pixpress(input).resize(720, 588, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer()],
    ['pixpress core defaults (progressive, trellis)', () => pixpress.compress(input, { format: 'jpeg', quality: 80, resize: [720, 588], fit: 'exact' }).then((o) => o.data)],
  ]],
  ['JPEG recompress q80', 'full', [
    ['sharp', () => sharp(input).jpeg({ quality: 80 }).toBuffer()],
    ['pixpress fluent, sharp\'s defaults (baseline, effort 0)', () => pixpress(input).jpeg({ quality: 80 }).toBuffer()],
    ['pixpress core defaults (progressive, trellis)', () => pixpress.compress(input, { format: 'jpeg', quality: 80, never_larger: false }).then((o) => o.data)],
  ]],
  ['WebP q80', 'full', [
    ['sharp', () => sharp(input).webp({ quality: 80 }).toBuffer()],
    ['pixpress', () => pixpress.compress(input, { format: 'webp', quality: 80 }).then((o) => o.data)],
  ]],
  ['AVIF q60', 'full', [
    ['sharp (aom, effort 4, 4:4:4)', () => sharp(input).avif({ quality: 60 }).toBuffer()],
    ['pixpress fluent, sharp\'s settings (aom, effort 4, 4:4:4)', () => pixpress(input).avif({ quality: 60 }).toBuffer()],
    ['pixpress core default (aom speed 6, 4:4:4)', () => pixpress.compress(input, { format: 'avif', quality: 60 }).then((o) => o.data)],
  ]],
]

async function opsPerSecond(fn, inFlight, total) {
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next++ < total) await fn()
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return total / ((performance.now() - started) / 1000)
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-bench-'))
  const results = []
  for (const [row, reference, impls] of rows) {
    const total = row.startsWith('AVIF') ? 4 : row.startsWith('WebP') ? 8 : 24
    for (const [name, fn] of impls) {
      const out = await fn() // warm-up, and the output that is scored
      const file = path.join(tmp, `${results.length}.bin`)
      fs.writeFileSync(file, out)
      const cpu = process.cpuUsage()
      const one = await opsPerSecond(fn, 1, total)
      const used = process.cpuUsage(cpu)
      const cpuMs = (used.user + used.system) / 1000 / total
      const two = await opsPerSecond(fn, 2, total)
      results.push({ row, name, one, two, cpuMs, bytes: out.length, file, reference })
      process.stderr.write(`${row} | ${name} | ${one.toFixed(2)} | ${two.toFixed(2)}\n`)
    }
  }
  let scores = {}
  try {
    const args = results.map((r) => `${r.reference}=${r.file}`)
    scores = JSON.parse(execFileSync('python3', [path.join(__dirname, 'score.py'), PHOTO, ...args], { encoding: 'utf8' }))
  } catch (error) {
    process.stderr.write(`no SSIMULACRA2 scores (pip install ssimulacra2): ${error.message}\n`)
  }
  console.log(`pixpress ${pixpress.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}); RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS ?? 'unset'}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4'}`)
  console.log('| operation | implementation | ops/s, 1 in flight | CPU ms/op, 1 in flight | ops/s, 2 in flight | bytes | SSIMULACRA2 |')
  console.log('|---|---|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const s = scores[r.file]
    console.log(`| ${r.row} | ${r.name} | ${r.one.toFixed(2)} | ${r.cpuMs.toFixed(1)} | ${r.two.toFixed(2)} | ${r.bytes} | ${s === undefined ? '-' : s.toFixed(1)} |`)
  }
  fs.rmSync(tmp, { recursive: true })
}

main()
