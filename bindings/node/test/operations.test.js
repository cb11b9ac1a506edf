'use strict'
// The sharp-style operations (extract, rotate, flip, flop, flatten,
// greyscale, resize with fit 'contain') judged by sharp itself: the same
// calls on the same pixels, both outputs written as PNG and decoded by sharp.
// sharp comes from bench/package.json (`npm ci --prefix bindings/node/bench`,
// which scripts/setup.sh runs).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const pixpress = require('..')
const sharp = require('../bench/node_modules/sharp')

const CORPUS = process.env.PIXPRESS_CORPUS || path.resolve(__dirname, '../../../../shared/corpus')

/** Raw pixels of an encoded image, as sharp decodes them. */
async function raw(encoded) {
  return sharp(encoded).raw().toBuffer({ resolveWithObject: true })
}

/** Color times alpha, so that the color under full transparency does not count. */
function premultiplied({ data, info }) {
  if (info.channels !== 4) return { data, info }
  const out = Buffer.from(data)
  for (let i = 0; i < out.length; i += 4) {
    for (let c = 0; c < 3; c++) out[i + c] = Math.round((out[i + c] * out[i + 3]) / 255)
  }
  return { data: out, info }
}

/** The largest difference of one sample, after checking the shapes agree. */
function largestDifference(want, got, label) {
  const shape = (r) => [r.info.width, r.info.height, r.info.channels]
  assert.deepEqual(shape(got), shape(want), `${label}: width, height, channels`)
  const [a, b] = [premultiplied(want).data, premultiplied(got).data]
  let largest = 0
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]))
  return largest
}

let sources
/** A photo and a photo with a transparent hole, as PNG: both libraries decode the same pixels. */
async function images() {
  if (!sources) {
    const photo = await sharp(fs.readFileSync(path.join(CORPUS, 'jpeg/30-type_error.jpg'))).resize(401, 297).png().toBuffer()
    const hole = Buffer.from('<svg width="401" height="297"><circle cx="200" cy="150" r="100"/></svg>')
    const alpha = await sharp(photo).ensureAlpha().composite([{ input: hole, blend: 'dest-out' }]).png().toBuffer()
    sources = { photo, alpha }
  }
  return sources
}

/** Runs `op` on a sharp and a pixpress pipeline over `input`; the largest sample difference. */
async function compare(input, op, label) {
  const want = await raw(await op(sharp(input)).png().toBuffer())
  const got = await raw(await op(pixpress(input)).png().toBuffer())
  return largestDifference(want, got, label)
}

/** Runs `op` on both over `input`; the mean sample difference, after checking the shapes agree. */
async function compareMean(input, op, label) {
  const want = await raw(await op(sharp(input)).png().toBuffer())
  const got = await raw(await op(pixpress(input)).png().toBuffer())
  largestDifference(want, got, label)
  let total = 0
  for (let i = 0; i < got.data.length; i++) total += Math.abs(got.data[i] - want.data[i])
  return total / got.data.length
}

test('extract, right-angle rotations, flip and flop are sharp pixel for pixel', async () => {
  const { photo, alpha } = await images()
  const cases = {
    extract: (s) => s.extract({ left: 37, top: 21, width: 200, height: 150 }),
    rotate90: (s) => s.rotate(90),
    'rotate-90': (s) => s.rotate(-90),
    rotate180: (s) => s.rotate(180),
    rotate450: (s) => s.rotate(450),
    flip: (s) => s.flip(),
    flop: (s) => s.flop(),
    'flip flop': (s) => s.flip().flop(),
    'extract flip rotate': (s) => s.extract({ left: 10, top: 10, width: 300, height: 200 }).flip().rotate(90),
    'flop rotate270': (s) => s.rotate(270).flop(),
  }
  for (const [label, op] of Object.entries(cases)) {
    assert.equal(await compare(photo, op, label), 0, label)
    assert.equal(await compare(alpha, op, `${label} (alpha)`), 0, `${label} (alpha)`)
  }
})

test('rotate by any angle gives sharp’s canvas and samples within one level', async () => {
  const { photo, alpha } = await images()
  // Odd and even sizes, whose turned corners round differently.
  for (const [w, h] of [[401, 297], [401, 295], [333, 211]]) {
    const input = await sharp(photo).resize(w, h, { fit: 'fill' }).png().toBuffer()
    for (const angle of [30, -17.5, 123, 359]) {
      const op = (s) => s.rotate(angle, { background: '#336699' })
      assert.ok((await compare(input, op, `rotate ${angle}`)) <= 1, `${w}x${h} rotate ${angle}`)
    }
  }
  const clear = (s) => s.rotate(30, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
  assert.ok((await compare(alpha, clear, 'rotate 30 onto transparency')) <= 2)
  const opaque = await raw(await pixpress(photo).rotate(30, { background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer())
  assert.equal(opaque.info.channels, 4, 'a transparent background adds alpha, as sharp')
})

test('greyscale, flatten and fit contain agree with sharp within a level or two', async () => {
  const { photo, alpha } = await images()
  assert.ok((await compare(photo, (s) => s.greyscale(), 'greyscale')) <= 1)
  assert.ok((await compare(alpha, (s) => s.grayscale(), 'greyscale with alpha')) <= 1)
  assert.ok((await compare(alpha, (s) => s.flatten({ background: '#336699' }), 'flatten')) <= 1)
  assert.ok((await compare(alpha, (s) => s.flatten(), 'flatten onto black')) <= 1)
  for (const [w, h] of [[200, 200], [300, 100], [120, 250]]) {
    const op = (s) => s.resize(w, h, { fit: 'contain', background: '#336699' })
    const want = await raw(await op(sharp(photo)).png().toBuffer())
    const got = await raw(await op(pixpress(photo)).png().toBuffer())
    // The letterbox is placed as sharp places it: the same samples are background.
    const background = (r) => {
      const bars = []
      for (let i = 0; i < r.data.length; i += 3) bars.push(r.data[i] === 0x33 && r.data[i + 1] === 0x66 && r.data[i + 2] === 0x99)
      return bars
    }
    assert.deepEqual(background(got), background(want), `contain ${w}x${h}: the bars`)
    // Inside the bars, exactly the image as resized with fit 'inside'.
    const inside = await raw(await pixpress(photo).resize(w, h, { fit: 'inside' }).png().toBuffer())
    const [left, top] = [(w - inside.info.width) >> 1, (h - inside.info.height) >> 1]
    for (let y = 0; y < inside.info.height; y++) {
      const row = inside.data.subarray(y * inside.info.width * 3, (y + 1) * inside.info.width * 3)
      const start = ((top + y) * w + left) * 3
      assert.ok(row.equals(got.data.subarray(start, start + row.length)), `contain ${w}x${h}: row ${y}`)
    }
    // The resize itself is a second Lanczos3 implementation (fast_image_resize
    // against libvips' reduce): within half a level on average.
    let total = 0
    for (let i = 0; i < got.data.length; i++) total += Math.abs(got.data[i] - want.data[i])
    assert.ok(total / got.data.length < 0.5, `contain ${w}x${h}: mean difference ${total / got.data.length}`)
  }
})

test('call order, enlargement and backgrounds as sharp has them', async () => {
  const { photo, alpha } = await images()
  const cases = {
    // sharp resizes then rotates; the core turns the box instead.
    'resize then rotate 90': (s) => s.resize(160, 90, { fit: 'fill' }).rotate(90),
    'resize then rotate 90 twice': (s) => s.resize(160, 90, { fit: 'fill' }).rotate(90).rotate(-90),
    'rotate 90 then resize': (s) => s.rotate(90).resize(160, 90, { fit: 'fill' }),
    // A right-angle rotation leaves the letterbox colour alone. (With an odd
    // number of bar pixels, the odd one lands on the other side: the core
    // letterboxes after the rotation.)
    'contain then rotate 90': (s) => s.resize(200, 200, { fit: 'contain', background: '#336699' }).rotate(90),
  }
  // Each has a resize: two Lanczos3 implementations, within half a level on average.
  for (const [label, op] of Object.entries(cases)) assert.ok((await compareMean(photo, op, label)) < 0.5, label)
  // sharp enlarges unless told not to.
  const big = (s) => s.resize(800, 800, { fit: 'contain', background: '#336699' })
  const [want, got] = [await raw(await big(sharp(photo)).png().toBuffer()), await raw(await big(pixpress(photo)).png().toBuffer())]
  assert.deepEqual([got.info.width, got.info.height], [want.info.width, want.info.height])
  const small = await raw(await pixpress(photo).resize(800, 800, { fit: 'inside', withoutEnlargement: true }).png().toBuffer())
  assert.deepEqual([small.info.width, small.info.height], [401, 297])
  // flatten(false) keeps alpha, as sharp.
  assert.equal(await compare(alpha, (s) => s.flatten(false), 'flatten(false)'), 0)
  assert.throws(() => pixpress(photo).resize(100).rotate(30), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT')
})

test('the same operations through compress options, as the core names them', async () => {
  const { photo } = await images()
  const viaOptions = await pixpress.compress(photo, { format: 'png', crop: [37, 21, 200, 150], flop: true, rotate: 90 })
  const viaSharp = await sharp(photo).extract({ left: 37, top: 21, width: 200, height: 150 }).flop().rotate(90).png().toBuffer()
  assert.equal(largestDifference(await raw(viaSharp), await raw(viaOptions.data), 'options'), 0)
  const gray = await pixpress.compress(photo, { format: 'png', grayscale: true })
  assert.equal((await sharp(gray.data).metadata()).channels, 1)
})

test('animated GIF to animated WebP, as sharp with animated: true', async () => {
  const gif = fs.readFileSync(path.join(CORPUS, 'gif/animated-loop-3.gif'))
  const pages = (await sharp(gif, { animated: true }).metadata()).pages
  assert.ok(pages > 1)
  const { info } = await pixpress(gif, { animated: true }).resize(32).webp({ quality: 90 }).toBuffer({ resolveWithObject: true })
  assert.equal(info.pages, pages)
  const ours = await pixpress(gif, { animated: true }).webp({ lossless: true }).toBuffer()
  assert.equal((await sharp(ours, { animated: true }).metadata()).pages, pages)
  // Each frame as sharp reads it (sharp stacks the frames into one tall image).
  const want = await sharp(gif, { animated: true }).png().toBuffer()
  const got = await sharp(ours, { animated: true }).png().toBuffer()
  assert.ok(largestDifference(await raw(want), await raw(got), 'frames') <= 1)
  const first = await pixpress(gif).webp().toBuffer({ resolveWithObject: true })
  assert.equal(first.info.pages, 1, 'without animated, the first frame, as sharp')
  const out = await pixpress.compress(gif, { format: 'png' })
  assert.deepEqual([out.frames, out.framesDropped], [1, pages - 1])
})

test('operations that cannot be done are typed errors', async () => {
  const { photo } = await images()
  await assert.rejects(pixpress.compress(photo, { format: 'png', crop: [300, 200, 200, 200] }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT' && /crop/.test(e.message))
  await assert.rejects(pixpress.compress(photo, { format: 'png', crop: [1, 2, 3] }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT')
  await assert.rejects(pixpress.compress(photo, { format: 'png', grayscale: 'sepia' }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT')
  assert.throws(() => pixpress(photo).resize(100).extract({ left: 0, top: 0, width: 10, height: 10 }), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT')
  assert.throws(() => pixpress(photo).rotate(Number.NaN), (e) => e.code === 'PXP_ERR_INVALID_ARGUMENT')
})
