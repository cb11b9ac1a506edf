'use strict'
/**
 * pixpress for Node.js: the promise API over the native addon, and a fluent
 * form for people coming from sharp. Every compression runs on the libuv
 * thread pool on a copy of the input (a Buffer whose memory is transferred
 * or detached mid-task is never read) and outputs are external buffers over
 * library memory. Errors carry `code` (`'PXP_ERR_CORRUPT'`, ...).
 */
const fs = require('node:fs')
const { EventEmitter } = require('node:events')
const native = require('./native.js')

/** A Buffer view of `input` without copying it. */
function asBuffer(input) {
  if (Buffer.isBuffer(input)) return input
  if (ArrayBuffer.isView(input)) return Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  if (input instanceof ArrayBuffer) return Buffer.from(input)
  throw codeError('PXP_ERR_INVALID_ARGUMENT', `input must be a Buffer, Uint8Array or ArrayBuffer, not ${typeof input}`)
}

function codeError(code, message) {
  const error = new Error(message)
  error.code = code
  return error
}

/** The options to pass on: every value as it is (the addon turns null, lists and `[w, h]` or
 * `{ width, height }` boxes into the core's values), without `undefined` ones and the JS-only keys. */
function toOptions(options) {
  const out = {}
  for (const [key, value] of Object.entries(options || {})) {
    if (value === undefined || key === 'signal' || key === 'interceptor') continue
    out[key] = value
  }
  return out
}

/** Runs `start(token)` with an AbortSignal wired to a native cancel token. */
async function withSignal(signal, start) {
  if (!signal) return start(undefined)
  if (signal.aborted) throw codeError('PXP_ERR_CANCELLED', 'cancelled')
  const token = new native.CancelToken()
  const onAbort = () => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await start(token)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** The `interceptor` option: a function, or nothing. */
function interceptorOf(options) {
  const f = options && options.interceptor
  if (f !== undefined && f !== null && typeof f !== 'function') {
    throw codeError('PXP_ERR_INVALID_ARGUMENT', 'invalid option `interceptor`: expected a function')
  }
  if (!f) return undefined
  // A Promise would be read as "no edits" by the native side: refuse it, so
  // the call fails with PXP_ERR_INTERCEPTOR instead of silently doing nothing.
  return (view) => {
    const edits = f(view)
    if (edits && typeof edits.then === 'function') {
      throw new TypeError('the interceptor returned a Promise: interceptors run synchronously; await what you need before the call')
    }
    return edits
  }
}

/** Starts `call(buffer, options, token, interceptor)` on the native side with the input and options
 * checked first (a bad one rejects instead of throwing) and `signal` wired to a cancel token. */
function startWithBytes(input, options, call) {
  let buffer, interceptor
  try {
    buffer = asBuffer(input)
    interceptor = interceptorOf(options)
  } catch (error) {
    return Promise.reject(error)
  }
  return withSignal(options.signal, (token) => call(buffer, toOptions(options), token, interceptor))
}

/** Compresses an encoded image; options are the core's keys plus `signal` and `interceptor`. */
function compress(input, options = {}) {
  return startWithBytes(input, options, native.compress)
}

/** Compresses on the calling thread (blocks the event loop; for scripts). */
function compressSync(input, options = {}) {
  return native.compressSync(asBuffer(input), toOptions(options), interceptorOf(options))
}

/** Reads `src`, compresses it and writes `dst` atomically. */
function compressFile(src, dst, options = {}) {
  let interceptor
  try {
    interceptor = interceptorOf(options)
  } catch (error) {
    return Promise.reject(error)
  }
  return withSignal(options.signal, (token) =>
    native.compressFile(String(src), String(dst), toOptions(options), token, interceptor),
  )
}

/** Compresses an encoded image and writes the output to `dst` atomically (the core's write: a
 * symlink at `dst` is replaced, never written through). */
function compressToFile(input, dst, options = {}) {
  return startWithBytes(input, options, (buffer, o, token, interceptor) =>
    native.compressToFile(buffer, String(dst), o, token, interceptor),
  )
}

/** Applies `metadata`, `provenance`, `restore_record` and `interceptor` to an encoded JPEG, PNG or
 * WebP without re-encoding pixels. */
function rewriteMetadata(input, options = {}) {
  try {
    return native.rewriteMetadata(asBuffer(input), toOptions(options), interceptorOf(options))
  } catch (error) {
    return Promise.reject(error)
  }
}

/** Puts back what a restore record (`output.metadata.restoreRecord`) holds, without re-encoding pixels. */
function restoreMetadata(input, record) {
  try {
    return native.restoreMetadata(asBuffer(input), asBuffer(record))
  } catch (error) {
    return Promise.reject(error)
  }
}

/** Header facts, without decoding pixels. */
function probe(input) {
  return native.probe(asBuffer(input))
}

const SHARP_FIT = { inside: 'inside', contain: 'contain', cover: 'cover', fill: 'exact', outside: 'cover' }

/** A sharp colour (`'#rrggbb'`, `'white'`, `{ r, g, b, alpha }` with alpha 0-1) as the core's
 * `background`; sharp's default, black, when none is given. */
function colourOf(colour) {
  if (colour === undefined || colour === null) return '#000000'
  if (typeof colour === 'string') return colour
  if (typeof colour === 'object') {
    const alpha = colour.alpha === undefined ? 255 : Math.round(colour.alpha * 255)
    return [colour.r ?? 0, colour.g ?? 0, colour.b ?? 0, alpha].join(',')
  }
  throw codeError('PXP_ERR_INVALID_ARGUMENT', `background must be a colour string or { r, g, b, alpha }, not ${typeof colour}`)
}

/** The fluent form: `pixpress(input).resize(720, 588).jpeg({ quality: 80 }).toBuffer()`. */
class Pipeline {
  constructor(input, options) {
    this.input = input
    const { animated, ...rest } = options || {}
    // As sharp, metadata is dropped unless asked for (the ICC profile stays), and an animation
    // is read as its first frame unless `animated: true` (or `pages`) says otherwise.
    this.options = { metadata: 'strip', pages: animated ? 'all' : 1, ...rest }
  }

  /** Resizes to `width` x `height` (either may be null); `fit` as sharp names them (`cover` by
   * default; `contain` letterboxes onto `background`, black by default). */
  resize(width, height, options = {}) {
    if (width && typeof width === 'object') return this.resize(width.width, width.height, width)
    this.options.resize = [width ?? null, height ?? null]
    this._boxTurned = false
    this.options.fit = SHARP_FIT[options.fit || 'cover'] || options.fit
    if (this.options.fit === 'contain') this._background(options.background)
    // sharp enlarges unless told not to.
    this.options.enlarge = !options.withoutEnlargement
    this._resized = true
    return this
  }

  /** The one `background` the core has, from an operation's colour; without one, sharp's black
   * (unless an earlier operation gave a colour). */
  _background(colour) {
    if (colour !== undefined && colour !== null) {
      this.options.background = colourOf(colour)
      this._backgroundGiven = true
    } else if (!this._backgroundGiven) {
      this.options.background = '#000000'
    }
  }

  /** The region `{ left, top, width, height }` (sharp's pre-resize `extract`); it must lie within
   * the image. Call it before `resize` and `rotate`: the core crops first. */
  extract(region) {
    if (this._resized || this.options.rotate) {
      throw codeError('PXP_ERR_INVALID_ARGUMENT', 'extract() after resize() or rotate(angle) is not supported; call extract() first')
    }
    const { left, top, width, height } = region || {}
    this.options.crop = [left, top, width, height]
    return this
  }

  /** Without an angle, orientation from EXIF (which pixpress always applies); with one, rotated
   * `angle` degrees clockwise onto `background` (black by default), the canvas grown to hold it.
   * The core rotates before resizing: after `resize()`, a right angle turns the resize box with it
   * (the same result as sharp's resize then rotate); other angles must come before `resize()`. */
  rotate(angle, options = {}) {
    if (angle === undefined) return this
    if (typeof angle !== 'number' || !Number.isFinite(angle)) {
      throw codeError('PXP_ERR_INVALID_ARGUMENT', `rotate(angle) needs a finite number, not ${angle}`)
    }
    const rightAngle = angle % 90 === 0
    if (this._resized && !rightAngle) {
      throw codeError('PXP_ERR_INVALID_ARGUMENT', 'rotate(angle) after resize() is supported for multiples of 90 only; call rotate() first')
    }
    // As sharp, only the last rotation counts: undo a box turned for an earlier one.
    const turn = Boolean(this._resized) && Math.abs(angle % 180) === 90
    if (turn !== Boolean(this._boxTurned)) this.options.resize = [...this.options.resize].reverse()
    this._boxTurned = turn
    this.options.rotate = angle
    if (!rightAngle) this._background(options.background)
    return this
  }

  /** Mirrors top to bottom (before any rotation, as sharp). */
  flip(flip = true) {
    this.options.flip = Boolean(flip)
    return this
  }

  /** Mirrors left to right (before any rotation, as sharp). */
  flop(flop = true) {
    this.options.flop = Boolean(flop)
    return this
  }

  /** Composites alpha onto `background` (black by default) and drops it; `flatten(false)` does not. */
  flatten(options = {}) {
    this.options.flatten = options !== false
    if (this.options.flatten) this._background(options.background)
    return this
  }

  /** Gray by luminance in linear light, as sharp's (the output has one channel). */
  greyscale(greyscale = true) {
    this.options.grayscale = Boolean(greyscale)
    return this
  }

  /** Alias of greyscale(). */
  grayscale(grayscale = true) {
    return this.greyscale(grayscale)
  }

  /** Keeps EXIF, XMP, IPTC and ICC (sharp's `keepMetadata()`). */
  keepMetadata() {
    this.options.metadata = 'keep'
    return this
  }

  /** Alias of keepMetadata(), as sharp's `withMetadata()`. */
  withMetadata() {
    return this.keepMetadata()
  }

  /** JPEG with sharp's defaults (quality 80, baseline, Huffman tables optimized for the image,
   * no trellis: the core's effort 1); `optimiseCoding: false` keeps the standard tables (effort 0),
   * `mozjpeg: true` turns on what sharp's does (progressive, trellis, scan search: effort 8). */
  jpeg(o = {}) {
    const optimise = o.optimiseCoding ?? o.optimizeCoding ?? true
    return this._format('jpeg', {
      quality: o.quality ?? 80,
      progressive: o.progressive ?? (o.mozjpeg ? true : undefined),
      subsampling: o.chromaSubsampling === '4:4:4' ? '444' : '420',
      effort: o.effort ?? (o.mozjpeg ? 8 : optimise ? 1 : 0),
    })
  }

  png(o = {}) {
    return this._format('png', { quality: o.palette || o.quality ? o.quality ?? 100 : undefined, effort: o.effort })
  }

  webp(o = {}) {
    return this._format('webp', {
      quality: o.quality,
      lossless: o.lossless,
      alpha_quality: o.alphaQuality,
      sharp_yuv: o.smartSubsample,
      webp_method: o.effort,
    })
  }

  /** AVIF with sharp's defaults (quality 50, effort 4 of 9, 4:4:4 chroma), through the same aom encoder. */
  avif(o = {}) {
    if (![undefined, '4:2:0', '4:4:4'].includes(o.chromaSubsampling)) {
      throw codeError('PXP_ERR_INVALID_ARGUMENT', `chromaSubsampling '${o.chromaSubsampling}' is not '4:2:0' or '4:4:4'`)
    }
    return this._format('avif', {
      quality: o.quality ?? 50,
      lossless: o.lossless,
      avif_effort: o.effort ?? 4,
      subsampling: o.chromaSubsampling === '4:2:0' ? '420' : '444',
      bit_depth: o.bitdepth,
    })
  }

  /** Any output format by name, with the core's option keys. */
  toFormat(format, options = {}) {
    return this._format(format, options)
  }

  _format(format, options) {
    this.options.format = format
    for (const [key, value] of Object.entries(options)) if (value !== undefined) this.options[key] = value
    return this
  }

  async _bytes() {
    return typeof this.input === 'string' ? fs.promises.readFile(this.input) : asBuffer(this.input)
  }

  /** The encoded bytes; `{ resolveWithObject: true }` gives `{ data, info }` as sharp does. */
  async toBuffer(options = {}) {
    const out = await compress(await this._bytes(), this.options)
    if (!options.resolveWithObject) return out.data
    const info = { format: out.format, width: out.width, height: out.height, size: out.data.length, pages: out.frames }
    return { data: out.data, info }
  }

  /** Writes the result to `file` atomically; resolves with sharp-style info. */
  async toFile(file) {
    const out =
      typeof this.input === 'string'
        ? await compressFile(this.input, file, this.options)
        : await compressToFile(this.input, file, this.options)
    return { format: out.format, width: out.width, height: out.height, size: out.data.length, pages: out.frames }
  }

  /** Header facts (sharp's `metadata()`). */
  async metadata() {
    return probe(await this._bytes())
  }
}

/** `pixpress(input)`: a Buffer, Uint8Array, ArrayBuffer or file path. */
function pixpress(input, options) {
  return new Pipeline(input, options)
}

pixpress.compress = compress
pixpress.compressSync = compressSync
pixpress.compressFile = compressFile
pixpress.compressToFile = compressToFile
pixpress.errorCodes = () => native.errorCodes()
pixpress.probe = probe
pixpress.score = (reference, distorted, metric) => native.score(asBuffer(reference), asBuffer(distorted), metric)
pixpress.scoreSync = (reference, distorted, metric) => native.scoreSync(asBuffer(reference), asBuffer(distorted), metric)
pixpress.analyze = (input, options) => native.analyze(asBuffer(input), toOptions(options))
pixpress.analyzeSync = (input, options) => native.analyzeSync(asBuffer(input), toOptions(options))
pixpress.readMetadata = (input) => native.readMetadata(asBuffer(input))
pixpress.readMetadataSync = (input) => native.readMetadataSync(asBuffer(input))
pixpress.readWatermark = (input, options = {}) => native.readWatermark(asBuffer(input), options.key)
pixpress.readWatermarkSync = (input, options = {}) => native.readWatermarkSync(asBuffer(input), options.key)
pixpress.diffMetadata = (before, after) => native.diffMetadata(asBuffer(before), asBuffer(after))
pixpress.diffMetadataSync = (before, after) => native.diffMetadataSync(asBuffer(before), asBuffer(after))
pixpress.rewriteMetadata = rewriteMetadata
pixpress.restoreMetadata = restoreMetadata
pixpress.stats = native.stats
pixpress.metricsPrometheus = native.metricsPrometheus
pixpress.setMemoryBudget = native.setMemoryBudget
pixpress.setBufferPoolLimit = native.setBufferPoolLimit
pixpress.optionKeys = native.optionKeys
pixpress.capabilities = native.capabilities
pixpress.version = native.version()
pixpress.Pipeline = Pipeline
pixpress.default = pixpress
/**
 * A resumable batch job whose state survives a crash or `kill -9`:
 * `new Session(['photos'], 'out', { format: 'webp' })` keeps its state in
 * `out/.pixpress-session`; constructing it again with the same arguments (or
 * `Session.open(stateDir)`) resumes it. Options: `state`, `include`,
 * `exclude` (globs), `naming`, `jobs`, and the core's option keys.
 * `run({ signal })` emits `'progress'` events with the counts and the last
 * finished task, and rejects with `PXP_ERR_CANCELLED` when aborted.
 */
class Session extends EventEmitter {
  constructor(inputs, output, options = {}) {
    super()
    if (inputs === undefined) return // Session.open
    const { state, include, exclude, naming, jobs, ...rest } = options
    const job = { input: [].concat(inputs).map(String), output: String(output) }
    if (state !== undefined) job.state = String(state)
    if (include !== undefined) job.include = [].concat(include)
    if (exclude !== undefined) job.exclude = [].concat(exclude)
    if (naming !== undefined) job.naming = naming
    if (jobs !== undefined) job.jobs = jobs
    this._native = native.NativeSession.openOrCreate(job, toOptions(rest))
  }

  /** Opens the session whose state is in `stateDir`, to resume it. */
  static open(stateDir) {
    const session = new Session()
    session._native = native.NativeSession.open(String(stateDir))
    return session
  }

  /** Counts: total, done, failed, pending, bytesIn, bytesOut (and, during a run, rate, eta, lastInput). */
  status() {
    return this._native.status()
  }

  /** The failed tasks: `{ input, code, error }`. */
  failures() {
    return this._native.failures()
  }

  /** Marks failed tasks pending again for the next run; returns how many. */
  retryFailed() {
    return this._native.retryFailed()
  }

  /** Closes the session: the state stays on disk and its lock is released. */
  close() {
    this._native.close()
  }

  /** Stops a run once the tasks in flight finish. */
  cancel() {
    this._native.cancel()
  }

  /** Runs the job to its end on the libuv pool, emitting `'progress'` every `interval` ms while counts change. */
  async run({ signal, interval = 100 } = {}) {
    if (signal?.aborted) throw codeError('PXP_ERR_CANCELLED', 'cancelled')
    const onAbort = () => this._native.cancel()
    signal?.addEventListener('abort', onAbort, { once: true })
    let seen = ''
    const tick = () => {
      const s = this._native.status()
      const key = `${s.done}/${s.failed}/${s.lastInput}`
      if (key !== seen) {
        seen = key
        this.emit('progress', s)
      }
    }
    const timer = setInterval(tick, interval)
    try {
      const result = await this._native.run()
      tick()
      return result
    } finally {
      clearInterval(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }
}

pixpress.Session = Session
module.exports = pixpress
