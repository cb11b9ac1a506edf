'use strict'
// Load test through Node (issue 9): 1,000 requests of mixed sizes drawn from
// the corpus (the Rust harness's seeded order), sent by 64 concurrent callers
// (closed loop) to a 2-thread libuv pool, each "fit into 1600x1600, JPEG q80";
// pixpress against sharp in one run.
//   cd bindings/node/bench && npm install && UV_THREADPOOL_SIZE=2 RAYON_NUM_THREADS=1 node load.js
// Peak RSS is the process's, sampled every 5 ms, so each row includes the rows
// before it (pixpress runs first).
// Reports P50/P95/P99 latency (queueing included), throughput, peak RSS, and
// the P99 an ideal 2-server FIFO queue would give with each file's service
// time measured alone (the target: measured P99 within 1.2x of it).
// PXP_LOAD_REQUESTS and PXP_LOAD_CALLERS change the load.
const fs = require('node:fs')
const path = require('node:path')
const sharp = require('sharp')
const pixpress = require('..')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')
const REQUESTS = Number(process.env.PXP_LOAD_REQUESTS || 1000)
const CALLERS = Number(process.env.PXP_LOAD_CALLERS || 64)
const WORKERS = Number(process.env.UV_THREADPOOL_SIZE || 4)
sharp.cache(false)
sharp.concurrency(1)

/** JPEG, PNG, WebP and GIF inputs up to 4 MB that both libraries read, in the Rust harness's order. */
function inputs () {
  const files = []
  for (const dir of ['jpeg', 'png', 'webp', 'gif']) {
    for (const name of fs.readdirSync(path.join(CORPUS, dir)).sort()) {
      const file = path.join(CORPUS, dir, name)
      const size = fs.statSync(file).size
      if (size > 0 && size <= 4 << 20) files.push([`${dir}/${name}`, fs.readFileSync(file)])
    }
  }
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  let state = 0x9E3779B97F4A7C15n
  const mask = (1n << 64n) - 1n
  for (let i = files.length - 1; i > 0; i--) {
    state ^= (state << 13n) & mask
    state ^= state >> 7n
    state ^= (state << 17n) & mask
    const j = Number(state % BigInt(i + 1))
    ;[files[i], files[j]] = [files[j], files[i]]
  }
  return files
}

const LIBRARIES = {
  'pixpress (defaults: progressive, trellis)': (data) => pixpress.compress(data, { format: 'jpeg', quality: 80, resize: [1600, 1600] }),
  'pixpress (effort 0, as sharp\'s defaults)': (data) => pixpress.compress(data, { format: 'jpeg', quality: 80, resize: [1600, 1600], effort: 0 }),
  'sharp (mozjpeg: true, as pixpress trellis)': (data) => sharp(data, { animated: false }).rotate().resize(1600, 1600, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80, mozjpeg: true }).toBuffer(),
  'sharp (defaults)': (data) => sharp(data, { animated: false }).rotate().resize(1600, 1600, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer(),
}

function percentile (sorted, p) {
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1]
}

/** Latencies of an ideal FIFO queue of WORKERS servers fed by CALLERS closed-loop callers. */
function idealLatencies (service) {
  const events = [] // [time, seq, isArrival, request]
  let seq = 0
  const push = (e) => { events.push(e); events.sort((a, b) => a[0] - b[0] || a[1] - b[1]) }
  for (let r = 0; r < Math.min(CALLERS, service.length); r++) push([0, seq++, true, r])
  const arrived = new Array(service.length).fill(0)
  const waiting = []
  let idle = WORKERS
  const latencies = []
  while (events.length) {
    const [now, , isArrival, request] = events.shift()
    if (isArrival) {
      arrived[request] = now
      waiting.push(request)
    } else {
      idle++
      latencies.push(now - arrived[request])
      const next = request + CALLERS
      if (next < service.length) push([now, seq++, true, next])
    }
    while (idle > 0 && waiting.length) {
      const next = waiting.shift()
      idle--
      push([now + service[next], seq++, false, next])
    }
  }
  return latencies
}

async function run (name, files) {
  const op = LIBRARIES[name]
  // Each file's service time alone: the median of 3 runs.
  const alone = new Map()
  for (const [file, data] of files) {
    const times = []
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      try { await op(data) } catch {}
      times.push(performance.now() - t)
    }
    alone.set(file, times.sort((a, b) => a - b)[1])
  }
  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 5)
  const latencies = new Array(REQUESTS)
  let failed = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CALLERS }, async (_, caller) => {
    for (let r = caller; r < REQUESTS; r += CALLERS) {
      const data = files[r % files.length][1]
      const t = performance.now()
      try { await op(data) } catch { failed++ }
      latencies[r] = performance.now() - t
    }
  }))
  const wall = (performance.now() - started) / 1000
  clearInterval(sampler)
  const service = Array.from({ length: REQUESTS }, (_, r) => alone.get(files[r % files.length][0]))
  const ideal = idealLatencies(service).sort((a, b) => a - b)
  const measured = latencies.slice().sort((a, b) => a - b)
  return { name, failed, wall, measured, ideal, peakRss }
}

async function main () {
  const files = inputs()
  console.log(`${REQUESTS} requests from ${files.length} corpus files, ${CALLERS} callers, libuv pool of ${WORKERS}; fit 1600x1600, JPEG q80`)
  const results = []
  for (const name of Object.keys(LIBRARIES)) results.push(await run(name, files))
  console.log('\n| library | P50 ms | P95 ms | P99 ms | ideal P99 ms | P99 / ideal | requests/s | peak RSS MiB | refused |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const p = (q) => percentile(r.measured, q).toFixed(1)
    const idealP99 = percentile(r.ideal, 99)
    console.log(`| ${r.name} | ${p(50)} | ${p(95)} | ${p(99)} | ${idealP99.toFixed(1)} | ${(percentile(r.measured, 99) / idealP99).toFixed(2)}x | ${(REQUESTS / r.wall).toFixed(1)} | ${(r.peakRss / 2 ** 20).toFixed(0)} | ${r.failed} |`)
  }
}

main()
