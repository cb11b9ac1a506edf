// ESM entry: the same API as the CommonJS one.
import pixpress from './index.js'

export default pixpress
export const { compress, compressSync, compressFile, compressToFile, errorCodes, probe, score, scoreSync, analyze, analyzeSync, readMetadata, readMetadataSync, readWatermark, readWatermarkSync, diffMetadata, diffMetadataSync, rewriteMetadata, restoreMetadata, stats, metricsPrometheus, setMemoryBudget, optionKeys, capabilities, version, Pipeline, Session } = pixpress
