'use strict'
// The Node worker of bench/bench_peers.py: pixpress's Node binding against sharp,
// each row's implementations in turn, round after round.
//   node bench/peers_sharp.js OUT_DIR ROUNDS [ONLY]   (SHARP_DIR: where sharp is installed)
// Prints the rows as JSON; writes each output to OUT_DIR for scoring.
const fs = require('node:fs')
const path = require('node:path')
const sharp = require(path.join(process.env.SHARP_DIR, 'node_modules', 'sharp'))
const pixpress = require('../bindings/node')

const [outDir, roundsArg, only] = process.argv.slice(2)
const rounds = Number(roundsArg)
const input = fs.readFileSync(path.join(process.env.PIXPRESS_CORPUS, 'jpeg/flickr_2569067123_aca715a2ee_o.jpg'))
sharp.cache(false)
sharp.concurrency(1) // one libvips thread per image, as pixpress with RAYON_NUM_THREADS=1

const rows = [
  ['JPEG recompress q80', 'photo', [
    ['sharp default (jpeg({ quality: 80 }))', () => sharp(input).jpeg({ quality: 80 }).toBuffer()],
    ['sharp optimiseCoding: false', () => sharp(input).jpeg({ quality: 80, optimiseCoding: false }).toBuffer()],
    ['pixpress (Node) default', () => pixpress.compress(input, { format: 'jpeg', quality: 80 }).then((o) => o.data)],
    ['pixpress (Node) effort 0', () => pixpress.compress(input, { format: 'jpeg', quality: 80, effort: 0 }).then((o) => o.data)],
  ]],
  ['resize 720x588 + JPEG q80', 'resized', [
    ['sharp (lanczos3)', () => sharp(input).resize(720, 588, { kernel: 'lanczos3' }).jpeg({ quality: 80 }).toBuffer()],
    ['pixpress (Node) default', () => pixpress.compress(input, { format: 'jpeg', quality: 80, resize: [720, 588], fit: 'exact' }).then((o) => o.data)],
  ]],
]

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function main() {
  const results = []
  for (const [row, reference, impls] of rows) {
    if (only && !row.includes(only)) continue
    const outputs = []
    for (const [, fn] of impls) outputs.push(await fn())
    const wall = impls.map(() => [])
    const cpu = impls.map(() => [])
    for (let round = 0; round < rounds; round++) {
      for (const [k, [, fn]] of impls.entries()) {
        const c0 = process.cpuUsage()
        const t0 = performance.now()
        await fn()
        wall[k].push(performance.now() - t0)
        const used = process.cpuUsage(c0)
        cpu[k].push((used.user + used.system) / 1000)
      }
    }
    for (const [k, [name, fn]] of impls.entries()) {
      const total = Math.max(4, rounds)
      let next = 0
      const t0 = performance.now()
      const worker = async () => {
        while (next++ < total) await fn()
      }
      await Promise.all([worker(), worker()])
      const two = total / ((performance.now() - t0) / 1000)
      const file = path.join(outDir, `node-${results.length}.bin`)
      fs.writeFileSync(file, outputs[k])
      results.push({ row, name, reference, file, ms: median(wall[k]), cpu_ms: median(cpu[k]), two, bytes: outputs[k].length })
    }
    process.stderr.write(`  ${row} (Node): done\n`)
  }
  process.stdout.write(JSON.stringify(results))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
