'use strict'
// Median ms of one JPEG q80 recompression (effort 0, baseline, metadata
// stripped, as the fluent `.jpeg()`) of the sharp benchmark photo through
// compressSync. Run with RAYON_NUM_THREADS=1 (decode then encode) and =2
// (decode overlapped with encode) to compare:
//   RAYON_NUM_THREADS=1 node overlap.js; RAYON_NUM_THREADS=2 node overlap.js
const fs = require('node:fs')
const path = require('node:path')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')
const input = fs.readFileSync(path.join(CORPUS, 'jpeg/flickr_2569067123_aca715a2ee_o.jpg'))
const options = { format: 'jpeg', quality: 80, effort: 0, progressive: false, metadata: 'strip' }
for (let k = 0; k < 3; k++) pixpress.compressSync(input, options)
const times = []
for (let k = 0; k < 20; k++) {
  const started = performance.now()
  pixpress.compressSync(input, options)
  times.push(performance.now() - started)
}
times.sort((a, b) => a - b)
console.log(`RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS ?? 'unset'}: median ${times[10].toFixed(1)} ms of 20`)
