/* The C ABI, exercised from C. Compiled with -std=c11 -Wall -Wextra -Werror
 * -pedantic against include/pixpress.h. Environment:
 *   PIXPRESS_CORPUS     the corpus (default ../shared/corpus)
 *   PXP_TEST_MAX_BYTES  corpus files above this size are skipped in the
 *                       all-formats test (default: no limit); the valgrind
 *                       run in CI sets it to keep the run short. */
#define _POSIX_C_SOURCE 200809L
#include "pixpress.h"
#include "check.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint32_t OUTPUTS[] = {PXP_FORMAT_JPEG, PXP_FORMAT_PNG, PXP_FORMAT_WEBP, PXP_FORMAT_AVIF};

static int is_error_text(const char *m) { return m && strlen(m) > 10; }

static unsigned char *corpus_file(const char *rel, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", corpus_dir(), rel);
    return read_file(path, len);
}

static void test_status_names(void) {
    CHECK(strcmp(pxp_status_name(PXP_OK), "PXP_OK") == 0, "ok");
    CHECK(strcmp(pxp_status_name(PXP_ERR_CORRUPT), "PXP_ERR_CORRUPT") == 0, "corrupt");
    CHECK(strcmp(pxp_status_name(PXP_ERR_CODEC_UNAVAILABLE), "PXP_ERR_CODEC_UNAVAILABLE") == 0, "codec");
    CHECK(strcmp(pxp_status_name(999), "") == 0, "unknown");
}

static void test_version(void) {
    const char *v = pxp_version();
    unsigned major, minor, patch;
    char tail;
    CHECK(v && sscanf(v, "%u.%u.%u%c", &major, &minor, &patch, &tail) == 3, "version \"%s\"", v ? v : "(null)");
    CHECK(pxp_abi_version() == PXP_ABI_VERSION, "abi %u", pxp_abi_version());
    CHECK(pxp_can_decode(PXP_FORMAT_HEIC) && pxp_can_decode(PXP_FORMAT_TIFF), "decoders");
    CHECK(pxp_can_encode(PXP_FORMAT_AVIF) && !pxp_can_encode(PXP_FORMAT_GIF) && !pxp_can_encode(999), "encoders");
}

/* Every good corpus file (up to PXP_TEST_MAX_BYTES) to every output format:
 * the result probes as that format with the dimensions the buffer reports. */
static void test_corpus_to_every_format(void) {
    manifest_row *rows = NULL;
    size_t n = read_manifest(&rows);
    CHECK(n > 50, "MANIFEST.tsv rows: %zu (corpus at %s)", n, corpus_dir());
    const char *limit_env = getenv("PXP_TEST_MAX_BYTES");
    size_t limit = limit_env ? strtoul(limit_env, NULL, 10) : SIZE_MAX;
    pxp_options *o = pxp_options_new();
    CHECK(pxp_options_set(o, "effort", "0") == PXP_OK, "effort");
    CHECK(pxp_options_set(o, "resize", "512x512") == PXP_OK, "resize");
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(rows[i].path, "bad/", 4) == 0 || rows[i].bytes > limit) continue;
        size_t len;
        unsigned char *data = corpus_file(rows[i].path, &len);
        CHECK(data != NULL, "read %s", rows[i].path);
        if (!data) continue;
        pxp_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        CHECK(pxp_probe(data, len, &info) == PXP_OK, "probe %s: %s", rows[i].path, pxp_last_error_message());
        CHECK(info.width == rows[i].width && info.height == rows[i].height, "%s: probe %ux%u, manifest %ux%u",
              rows[i].path, info.width, info.height, rows[i].width, rows[i].height);
        for (size_t f = 0; f < sizeof OUTPUTS / sizeof *OUTPUTS; f++) {
            CHECK(pxp_options_set_format(o, OUTPUTS[f]) == PXP_OK, "set format");
            pxp_buffer *out = NULL;
            pxp_status s = pxp_compress(data, len, o, &out);
            CHECK(s == PXP_OK && out, "%s -> %u: status %d: %s", rows[i].path, OUTPUTS[f], s, pxp_last_error_message());
            if (!out) continue;
            pxp_info back;
            memset(&back, 0, sizeof back);
            back.struct_size = sizeof back;
            CHECK(pxp_probe(pxp_buffer_data(out), pxp_buffer_len(out), &back) == PXP_OK, "re-probe %s", rows[i].path);
            CHECK((uint32_t)back.format == OUTPUTS[f] && (uint32_t)pxp_buffer_format(out) == OUTPUTS[f],
                  "%s: format %d", rows[i].path, back.format);
            CHECK(back.width == pxp_buffer_width(out) && back.height == pxp_buffer_height(out) &&
                      back.width <= 512 && back.height <= 512,
                  "%s: %ux%u vs buffer %ux%u", rows[i].path, back.width, back.height, pxp_buffer_width(out),
                  pxp_buffer_height(out));
            pxp_buffer_free(out);
        }
        free(data);
        done++;
    }
    CHECK(done > 0, "no corpus file was small enough");
    fprintf(stderr, "corpus: %zu files x 4 formats\n", done);
    pxp_options_free(o);
    free(rows);
}

/* Every bad/ file: a typed status, a message, no buffer, and no output file. */
/* The status tests/bad_status.tsv says `path` must be refused with, or NULL. */
static const char *expected_bad_status(const char *path, char *status, size_t size) {
    size_t len;
    char *text = (char *)read_file("tests/bad_status.tsv", &len);
    const char *found = NULL;
    if (!text) return NULL;
    text = realloc(text, len + 1);
    text[len] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab) continue;
        *tab = '\0';
        if (strcmp(line, path) != 0) continue;
        char *end = strchr(tab + 1, '\t');
        if (end) *end = '\0';
        snprintf(status, size, "%s", tab + 1);
        found = status;
        break;
    }
    free(text);
    return found;
}

static void test_bad_files(void) {
    manifest_row *rows = NULL;
    size_t n = read_manifest(&rows);
    char dir[] = "/tmp/pxp-bad-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(rows[i].path, "bad/", 4) != 0) continue;
        seen++;
        size_t len;
        unsigned char *data = corpus_file(rows[i].path, &len);
        pxp_buffer *out = (pxp_buffer *)&len; /* must be reset to NULL */
        pxp_status s = pxp_compress(data, len, NULL, &out);
        char expected[64];
        CHECK(expected_bad_status(rows[i].path, expected, sizeof expected) != NULL,
              "%s has no row in tests/bad_status.tsv", rows[i].path);
        CHECK(strcmp(pxp_status_name(s), expected) == 0, "%s: %s, expected %s", rows[i].path,
              pxp_status_name(s), expected);
        CHECK(out == NULL, "%s: out not reset", rows[i].path);
        CHECK(is_error_text(pxp_last_error_message()), "%s: message \"%s\"", rows[i].path, pxp_last_error_message());
        char in_path[1024], out_path[1100];
        snprintf(in_path, sizeof in_path, "%s/%s", corpus_dir(), rows[i].path);
        snprintf(out_path, sizeof out_path, "%s/out.jpg", dir);
        pxp_options *o = pxp_options_new();
        pxp_options_set(o, "format", "jpeg");
        CHECK(pxp_compress_file(in_path, out_path, o) != PXP_OK, "%s: file compress", rows[i].path);
        CHECK(access(out_path, F_OK) != 0, "%s: left a file at the output path", rows[i].path);
        pxp_options_free(o);
        free(data);
    }
    CHECK(seen >= 20, "bad files: %zu", seen);
    rmdir(dir);
    free(rows);
}

static void test_options(void) {
    pxp_options *o = pxp_options_new();
    CHECK(o != NULL, "new");
    CHECK(pxp_options_set(o, "qualty", "80") == PXP_ERR_INVALID_ARGUMENT, "unknown key");
    CHECK(strstr(pxp_last_error_message(), "qualty") != NULL, "message names the key: %s", pxp_last_error_message());
    CHECK(pxp_options_set(o, "quality", "101") == PXP_ERR_INVALID_ARGUMENT, "quality range");
    CHECK(strstr(pxp_last_error_message(), "quality") != NULL, "%s", pxp_last_error_message());
    CHECK(pxp_options_set(o, "resize", "axb") == PXP_ERR_INVALID_ARGUMENT, "resize");
    CHECK(pxp_options_set_format(o, 77) == PXP_ERR_INVALID_ARGUMENT, "format value");
    CHECK(pxp_options_set_quality(o, 0) == PXP_OK && pxp_options_set_quality(o, 101) == PXP_ERR_INVALID_ARGUMENT, "q");
    CHECK(pxp_options_set_effort(o, 11) == PXP_ERR_INVALID_ARGUMENT, "effort");
    CHECK(pxp_options_set_resize(o, 100, 0) == PXP_OK, "resize width only");
    CHECK(pxp_options_set_max_pixels(o, 1000) == PXP_OK, "max_pixels");
    CHECK(pxp_options_set_lossless(o, false) == PXP_OK, "lossless");

    /* A clone is independent of the original. */
    size_t len;
    unsigned char *data = corpus_file("jpeg/hopper.jpg", &len);
    pxp_options *big = pxp_options_clone(o);
    CHECK(pxp_options_set_max_pixels(big, 1u << 30) == PXP_OK, "clone set");
    pxp_buffer *out = NULL;
    CHECK(pxp_compress(data, len, o, &out) == PXP_ERR_LIMIT_EXCEEDED, "limit applies");
    CHECK(strstr(pxp_last_error_message(), "1000") != NULL, "limit in message: %s", pxp_last_error_message());
    CHECK(pxp_compress(data, len, big, &out) == PXP_OK && pxp_buffer_width(out) == 100, "clone compresses: %s",
          pxp_last_error_message());
    pxp_buffer_free(out);
    pxp_options_free(big);
    pxp_options_free(o);
    free(data);
}

/* An animated GIF keeps its frames in WebP; PNG writes the first and counts the rest. */
static void test_animation_and_operations(void) {
    size_t len;
    unsigned char *data = corpus_file("gif/animated-loop-3.gif", &len);
    pxp_options *o = pxp_options_new();
    pxp_buffer *out = NULL;
    CHECK(pxp_options_set(o, "format", "webp") == PXP_OK && pxp_compress(data, len, o, &out) == PXP_OK,
          "animated webp: %s", pxp_last_error_message());
    uint32_t frames = pxp_buffer_frames(out);
    CHECK(frames > 1 && pxp_buffer_frames_dropped(out) == 0, "frames %u", frames);
    pxp_buffer_free(out);
    CHECK(pxp_options_set(o, "format", "png") == PXP_OK && pxp_compress(data, len, o, &out) == PXP_OK, "png");
    CHECK(pxp_buffer_frames(out) == 1 && pxp_buffer_frames_dropped(out) == frames - 1, "dropped %u",
          pxp_buffer_frames_dropped(out));
    uint32_t width = pxp_buffer_width(out), height = pxp_buffer_height(out);
    pxp_buffer_free(out);
    /* The operations through pxp_options_set: a quarter turn swaps the sides. */
    CHECK(pxp_options_set(o, "rotate", "90") == PXP_OK && pxp_compress(data, len, o, &out) == PXP_OK, "rotate");
    CHECK(pxp_buffer_width(out) == height && pxp_buffer_height(out) == width, "turned");
    pxp_buffer_free(out);
    CHECK(pxp_options_set(o, "crop", "0,0,100000,1") == PXP_OK && pxp_compress(data, len, o, &out) ==
              PXP_ERR_INVALID_ARGUMENT && strstr(pxp_last_error_message(), "crop") != NULL,
          "crop past the image: %s", pxp_last_error_message());
    CHECK(pxp_buffer_frames(NULL) == 0 && pxp_buffer_frames_dropped(NULL) == 0, "NULL");
    pxp_options_free(o);
    free(data);
}

static void test_null_arguments(void) {
    pxp_buffer *out = NULL;
    pxp_image *img = NULL;
    unsigned char byte = 0;
    CHECK(pxp_compress(NULL, 10, NULL, &out) == PXP_ERR_INVALID_ARGUMENT, "null input");
    CHECK(strstr(pxp_last_error_message(), "input") != NULL, "%s", pxp_last_error_message());
    CHECK(pxp_compress(&byte, 1, NULL, NULL) == PXP_ERR_INVALID_ARGUMENT, "null out");
    CHECK(pxp_compress(&byte, 0, NULL, &out) == PXP_ERR_UNSUPPORTED_FORMAT && out == NULL, "empty input");
    CHECK(pxp_compress_with_progress(NULL, 0, NULL, NULL, NULL, NULL) == PXP_ERR_INVALID_ARGUMENT, "progress null");
    CHECK(pxp_compress_file(NULL, "x", NULL) == PXP_ERR_INVALID_ARGUMENT, "null path");
    CHECK(pxp_compress_file("x", NULL, NULL) == PXP_ERR_INVALID_ARGUMENT, "null path");
    CHECK(pxp_compress_file("", "x", NULL) == PXP_ERR_INVALID_ARGUMENT, "empty path");
    CHECK(pxp_probe(&byte, 1, NULL) == PXP_ERR_INVALID_ARGUMENT, "null info");
    pxp_info small = {0};
    CHECK(pxp_probe(&byte, 1, &small) == PXP_ERR_INVALID_ARGUMENT, "struct_size 0");
    CHECK(pxp_decode(NULL, 1, NULL, &img) == PXP_ERR_INVALID_ARGUMENT && img == NULL, "decode null");
    CHECK(pxp_encode(NULL, 1, 1, 3, PXP_LAYOUT_RGB, NULL, &out) == PXP_ERR_INVALID_ARGUMENT, "encode null");
    CHECK(pxp_options_set(NULL, "quality", "80") == PXP_ERR_INVALID_ARGUMENT, "set null options");
    pxp_options *o = pxp_options_new();
    CHECK(pxp_options_set(o, NULL, "80") == PXP_ERR_INVALID_ARGUMENT, "null key");
    CHECK(pxp_options_set(o, "quality", NULL) == PXP_ERR_INVALID_ARGUMENT, "null value");
    CHECK(pxp_options_set_quality(NULL, 80) == PXP_ERR_INVALID_ARGUMENT, "typed setter null");
    pxp_options_free(o);
    CHECK(pxp_options_clone(NULL) == NULL, "clone null");
    CHECK(pxp_buffer_data(NULL) == NULL && pxp_buffer_len(NULL) == 0 && pxp_buffer_width(NULL) == 0 &&
              pxp_buffer_format(NULL) == PXP_FORMAT_UNKNOWN && !pxp_buffer_unchanged(NULL),
          "buffer accessors on NULL");
    CHECK(pxp_image_data(NULL) == NULL && pxp_image_width(NULL) == 0 && pxp_image_stride(NULL) == 0, "image NULL");
    pxp_options_free(NULL);
    pxp_buffer_free(NULL);
    pxp_image_free(NULL);
}

/* Older callers pass a smaller pxp_info: only the fields that fit are written. */
static void test_probe_struct_size(void) {
    size_t len;
    unsigned char *data = corpus_file("jpeg/hopper.jpg", &len);
    pxp_info info;
    memset(&info, 0xAB, sizeof info);
    info.struct_size = offsetof(pxp_info, height);
    CHECK(pxp_probe(data, len, &info) == PXP_OK, "probe");
    CHECK(info.format == PXP_FORMAT_JPEG && info.width == 128, "prefix filled");
    unsigned char *rest = (unsigned char *)&info + offsetof(pxp_info, height);
    CHECK(rest[0] == 0xAB && rest[3] == 0xAB, "bytes past struct_size untouched");
    free(data);
    /* A JFIF density in inches comes out as dpi; no stated density is 0. */
    data = corpus_file("jpeg/hopper.jpg", &len);
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK(pxp_probe(data, len, &info) == PXP_OK && info.dpi_x >= 0 && info.dpi_y >= 0, "dpi");
    free(data);
}

/* Decode to library-owned pixels, encode from caller-owned padded rows to PNG,
 * decode again: the pixels are identical. */
static void test_decode_encode_round_trip(void) {
    size_t len;
    unsigned char *data = corpus_file("png/hopper.png", &len);
    pxp_image *img = NULL;
    CHECK(pxp_decode(data, len, NULL, &img) == PXP_OK, "decode: %s", pxp_last_error_message());
    uint32_t w = pxp_image_width(img), h = pxp_image_height(img);
    CHECK(pxp_image_layout(img) == PXP_LAYOUT_RGB && pxp_image_bit_depth(img) == 8 && w == 128 && h == 128, "shape");
    CHECK(pxp_image_source_format(img) == PXP_FORMAT_PNG, "source format");
    size_t row = pxp_image_stride(img), stride = row + 7;
    unsigned char *padded = calloc(stride * h, 1);
    for (uint32_t y = 0; y < h; y++) memcpy(padded + y * stride, pxp_image_data(img) + y * row, row);
    pxp_options *o = pxp_options_new();
    pxp_options_set(o, "format", "png");
    pxp_buffer *png = NULL;
    CHECK(pxp_encode(padded, w, h, stride, PXP_LAYOUT_RGB, o, &png) == PXP_OK, "encode: %s", pxp_last_error_message());
    pxp_image *again = NULL;
    CHECK(pxp_decode(pxp_buffer_data(png), pxp_buffer_len(png), NULL, &again) == PXP_OK, "decode again");
    CHECK(again && memcmp(pxp_image_data(again), pxp_image_data(img), row * h) == 0, "pixels differ");
    pxp_buffer_free(png);
    CHECK(pxp_encode(padded, w, h, row - 1, PXP_LAYOUT_RGB, o, &png) == PXP_ERR_INVALID_ARGUMENT, "short stride");
    CHECK(pxp_encode(padded, w, h, stride, 9, o, &png) == PXP_ERR_INVALID_ARGUMENT, "bad layout");
    CHECK(pxp_encode(padded, w, h, stride, PXP_LAYOUT_RGB, NULL, &png) == PXP_ERR_INVALID_ARGUMENT && png == NULL,
          "format needed");
    pxp_image_free(again);
    pxp_image_free(img);
    pxp_options_free(o);
    free(padded);
    free(data);
}

typedef struct progress_log {
    int calls;
    int cancel_at; /* a pxp_stage, or 0 for never */
    pxp_stage stages[8];
} progress_log;

static int on_progress(void *user_data, const pxp_progress *p) {
    progress_log *log = user_data;
    if (log->calls < 8) log->stages[log->calls] = p->stage;
    log->calls++;
    return (int)p->stage == log->cancel_at;
}

static void test_progress_and_cancel(void) {
    size_t len;
    unsigned char *data = corpus_file("jpeg/hopper.jpg", &len);
    pxp_options *o = pxp_options_new();
    pxp_options_set(o, "format", "webp");
    progress_log log = {0, 0, {0}};
    pxp_buffer *out = NULL;
    CHECK(pxp_compress_with_progress(data, len, o, on_progress, &log, &out) == PXP_OK, "progress run");
    CHECK(log.calls == 4 && log.stages[0] == PXP_STAGE_DECODE && log.stages[3] == PXP_STAGE_DONE, "stages %d",
          log.calls);
    pxp_buffer_free(out);
    for (int stage = PXP_STAGE_DECODE; stage <= PXP_STAGE_DONE; stage++) {
        progress_log cancel = {0, stage, {0}};
        out = (pxp_buffer *)&cancel;
        CHECK(pxp_compress_with_progress(data, len, o, on_progress, &cancel, &out) == PXP_ERR_CANCELLED,
              "cancel at %d", stage);
        CHECK(out == NULL && cancel.calls == stage, "cancel at %d: out %p, calls %d", stage, (void *)out,
              cancel.calls);
    }
    pxp_options_free(o);
    free(data);
}

/* A failed write leaves nothing; a good one leaves exactly the file. */
static void test_compress_file(void) {
    char dir[] = "/tmp/pxp-file-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char in[1024], out[1100], missing[1100];
    snprintf(in, sizeof in, "%s/jpeg/hopper.jpg", corpus_dir());
    snprintf(out, sizeof out, "%s/hopper.webp", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.webp", dir);
    pxp_options *o = pxp_options_new();
    pxp_options_set(o, "format", "webp");
    CHECK(pxp_compress_file(in, out, o) == PXP_OK, "compress_file: %s", pxp_last_error_message());
    struct stat st;
    CHECK(stat(out, &st) == 0 && st.st_size > 100, "output written");
    CHECK(pxp_compress_file(in, missing, o) == PXP_ERR_IO, "missing dir");
    CHECK(strstr(pxp_last_error_message(), "no/such/dir") != NULL, "%s", pxp_last_error_message());
    CHECK(pxp_compress_file("/nonexistent/in.jpg", out, o) == PXP_ERR_IO, "missing input");
    CHECK(stat(out, &st) == 0, "a failed call does not remove an existing good file");
    unlink(out);
    rmdir(dir);
    pxp_options_free(o);
}

/* Sessions: a batch over the GIF folder runs, resumes as all verified, and
 * reports progress; a cancel from the callback stops it with PXP_ERR_CANCELLED. */
struct session_seen { size_t reports, compressed, verified, failed; int stop_after; };

static int on_session_progress(void *user_data, const pxp_session_counts *s) {
    struct session_seen *seen = user_data;
    seen->reports++;
    if (s->task_status == 0) seen->compressed++;
    else if (s->task_status == -1) seen->verified++;
    else seen->failed++;
    CHECK(s->task_input != NULL && strlen(s->task_input) > 0, "task input");
    CHECK(s->done + s->failed + s->pending == s->total, "counts add up");
    return seen->stop_after > 0 && (int)seen->reports >= seen->stop_after;
}

static void test_score_and_target(void) {
    size_t len;
    unsigned char *data = corpus_file("png/hopper.png", &len);
    pxp_options *o = pxp_options_new();
    pxp_options_set(o, "format", "webp");
    CHECK(pxp_options_set(o, "target", "ssimulacra2=80") == PXP_OK, "target");
    pxp_buffer *out = NULL;
    CHECK(pxp_compress(data, len, o, &out) == PXP_OK, "target compress: %s", pxp_last_error_message());
    pxp_search_report report = {.struct_size = sizeof report};
    CHECK(pxp_buffer_search(out, &report), "search report");
    CHECK(report.metric == PXP_METRIC_SSIMULACRA2 && report.score >= 80 && report.bytes == pxp_buffer_len(out) &&
              report.quality >= 1 && report.quality <= 100 && report.trials >= 1,
          "report: score %f bytes %zu quality %u", report.score, report.bytes, report.quality);
    double score = 0;
    CHECK(pxp_score(data, len, pxp_buffer_data(out), pxp_buffer_len(out), PXP_METRIC_SSIMULACRA2, &score) == PXP_OK &&
              score == report.score,
          "score %f vs report %f", score, report.score);
    CHECK(pxp_score(data, len, data, len, PXP_METRIC_SSIM, &score) == PXP_OK && score == 1.0, "ssim identical");
    CHECK(pxp_score(data, len, data, len, 7, &score) == PXP_ERR_INVALID_ARGUMENT, "bad metric");
    CHECK(pxp_score(data, len, data, 3, PXP_METRIC_PSNR, &score) != PXP_OK, "bad image");
    CHECK(pxp_options_set(o, "target", "size=100") == PXP_OK, "size target");
    pxp_buffer *tiny = NULL;
    CHECK(pxp_compress(data, len, o, &tiny) == PXP_ERR_TARGET_UNREACHABLE && tiny == NULL, "unreachable");
    pxp_buffer_free(out);
    pxp_options_set(o, "target", "");
    CHECK(pxp_compress(data, len, o, &out) == PXP_OK && !pxp_buffer_search(out, &report), "no search without target");
    pxp_buffer_free(out);
    pxp_options_free(o);
    free(data);
}

static void test_watermark(void) {
    size_t len;
    unsigned char *data = corpus_file("jpeg/exif-org_fujifilm-dx10.jpg", &len);
    pxp_options *o = pxp_options_new();
    CHECK(pxp_options_set(o, "format", "jpeg") == PXP_OK && pxp_options_set(o, "watermark", "on") == PXP_OK &&
              pxp_options_set(o, "watermark_key", "c key") == PXP_OK &&
              pxp_options_set(o, "watermark_data", "from C") == PXP_OK,
          "watermark options");
    pxp_buffer *out = NULL;
    CHECK(pxp_compress(data, len, o, &out) == PXP_OK, "marked compress: %s", pxp_last_error_message());
    pxp_watermark mark = {.struct_size = sizeof mark};
    CHECK(pxp_watermark_read(pxp_buffer_data(out), pxp_buffer_len(out), "c key", &mark) == PXP_OK &&
              mark.state == PXP_WATERMARK_FOUND && mark.data_len == 6 && memcmp(mark.data, "from C", 6) == 0 &&
              mark.time > 1700000000u,
          "mark read back: state %u", mark.state);
    CHECK(pxp_watermark_read(pxp_buffer_data(out), pxp_buffer_len(out), NULL, &mark) == PXP_OK &&
              mark.state == PXP_WATERMARK_ABSENT && mark.data_len == 0,
          "public key finds none");
    CHECK(pxp_watermark_read(data, len, "c key", &mark) == PXP_OK && mark.state == PXP_WATERMARK_ABSENT, "unmarked");
    CHECK(pxp_watermark_read(data, 3, "c key", &mark) != PXP_OK, "not an image");
    pxp_watermark unset = {0};
    CHECK(pxp_watermark_read(data, len, NULL, &unset) == PXP_ERR_INVALID_ARGUMENT, "struct_size unset");
    pxp_buffer_free(out);
    pxp_options_free(o);
    free(data);
}

static void test_analyze_and_auto(void) {
    size_t len;
    unsigned char *data = corpus_file("png/hopper.png", &len);
    pxp_options *o = pxp_options_new();
    CHECK(pxp_options_set(o, "formats", "jpeg,webp") == PXP_OK, "formats");
    CHECK(pxp_options_set(o, "resize", "128x128") == PXP_OK, "resize");
    pxp_analysis *a = NULL;
    CHECK(pxp_analyze(data, len, o, &a) == PXP_OK, "analyze: %s", pxp_last_error_message());
    size_t n = pxp_analysis_len(a), on_front = 0;
    CHECK(n == 21, "points %zu", n);
    for (size_t i = 0; i < n; i++) {
        pxp_rate_point p = {.struct_size = sizeof p};
        CHECK(pxp_analysis_point(a, i, &p), "point %zu", i);
        CHECK(p.bytes > 0 && p.score > -100 && p.score <= 100, "point %zu: %zu bytes, %f", i, p.bytes, p.score);
        CHECK((p.format == PXP_FORMAT_PNG) == (p.quality == 0), "png is the lossless point");
        on_front += p.pareto;
    }
    CHECK(on_front >= 2, "front of %zu", on_front);
    pxp_rate_point past = {.struct_size = sizeof past};
    CHECK(!pxp_analysis_point(a, n, &past), "out of range");
    CHECK(strstr(pxp_analysis_json(a), "\"front\"") != NULL, "json");
    CHECK(strncmp(pxp_analysis_svg(a), "<svg", 4) == 0, "svg");
    pxp_analysis_free(a);
    pxp_analysis_free(NULL);
    CHECK(pxp_analysis_len(NULL) == 0 && pxp_analysis_json(NULL) == NULL, "NULL analysis");
    CHECK(pxp_analyze(data, 3, o, &a) != PXP_OK && a == NULL, "bad input");

    CHECK(pxp_options_set(o, "format", "auto") == PXP_OK, "auto");
    CHECK(pxp_options_set(o, "target", "ssimulacra2=70") == PXP_OK, "target");
    pxp_buffer *out = NULL;
    CHECK(pxp_compress(data, len, o, &out) == PXP_OK, "auto compress: %s", pxp_last_error_message());
    pxp_format f = pxp_buffer_format(out);
    CHECK(f == PXP_FORMAT_JPEG || f == PXP_FORMAT_WEBP, "auto format %d", (int)f);
    pxp_search_report report = {.struct_size = sizeof report};
    CHECK(pxp_buffer_search(out, &report) && report.score >= 70, "auto search");
    pxp_buffer_free(out);
    CHECK(pxp_options_set(o, "formats", "gif") == PXP_ERR_INVALID_ARGUMENT, "gif is not written");
    CHECK(pxp_options_set(o, "tables", "vision:60") == PXP_OK, "tables");
    CHECK(pxp_options_set(o, "tables", "vision:0") == PXP_ERR_INVALID_ARGUMENT, "bad ppd");
    pxp_options_free(o);
    free(data);
}

static void test_session(void) {
    char dir[] = "/tmp/pxp-session-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char input[1024], state[1100];
    snprintf(input, sizeof input, "%s/gif", corpus_dir());
    snprintf(state, sizeof state, "%s/.pixpress-session", dir);
    pxp_session_spec *spec = pxp_session_spec_new();
    CHECK(pxp_session_spec_set(spec, "input", input) == PXP_OK, "input");
    CHECK(pxp_session_spec_set(spec, "output", dir) == PXP_OK, "output");
    CHECK(pxp_session_spec_set(spec, "format", "webp") == PXP_OK, "format");
    CHECK(pxp_session_spec_set(spec, "jobs", "1") == PXP_OK, "jobs");
    CHECK(pxp_session_spec_set(spec, "quality", "500") == PXP_ERR_INVALID_ARGUMENT, "bad option value");
    CHECK(strstr(pxp_last_error_message(), "quality") != NULL, "%s", pxp_last_error_message());

    pxp_session *session = NULL;
    CHECK(pxp_session_open_or_create(spec, &session) == PXP_OK, "create: %s", pxp_last_error_message());
    struct session_seen seen = {0, 0, 0, 0, 2};
    CHECK(pxp_session_run(session, on_session_progress, &seen) == PXP_ERR_CANCELLED, "cancel from the callback");
    pxp_session_counts st = {0};
    st.struct_size = sizeof st;
    CHECK(pxp_session_status(session, &st) == PXP_OK, "status");
    CHECK(st.done + st.failed >= 2 && st.pending > 0, "partial: %zu done %zu pending", st.done, st.pending);
    size_t total = st.total;
    pxp_session_free(session);

    session = NULL;
    CHECK(pxp_session_open(state, &session) == PXP_OK, "open: %s", pxp_last_error_message());
    struct session_seen rest = {0, 0, 0, 0, 0};
    CHECK(pxp_session_run(session, on_session_progress, &rest) == PXP_OK, "resume: %s", pxp_last_error_message());
    CHECK(rest.verified >= 2 && rest.reports == total, "resume verified %zu of %zu", rest.verified, rest.reports);
    CHECK(pxp_session_status(session, &st) == PXP_OK && st.pending == 0 && st.done + st.failed == total, "finished");
    size_t retried = 99;
    CHECK(pxp_session_retry_failed(session, &retried) == PXP_OK && retried == st.failed, "retry_failed");
    pxp_session_cancel(NULL);
    pxp_session_free(session);

    /* The same spec opens the same job; NULLs are refused. */
    session = NULL;
    CHECK(pxp_session_open_or_create(spec, &session) == PXP_OK, "reopen");
    pxp_session_free(session);
    CHECK(pxp_session_run(NULL, NULL, NULL) == PXP_ERR_INVALID_ARGUMENT, "NULL session");
    CHECK(pxp_session_open(NULL, &session) == PXP_ERR_INVALID_ARGUMENT && session == NULL, "NULL dir");
    pxp_session_spec_free(spec);
    pxp_session_spec_free(NULL);
    pxp_session_free(NULL);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* Value of the sample line starting with `series ` in Prometheus text, or -1. */
static double sample(const char *text, const char *series) {
    size_t n = strlen(series);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') return strtod(line + n + 1, NULL);
    }
    return -1;
}

/* The statistics count exactly the calls made here: a snapshot struct and
 * the Prometheus text agree, before and after two good and one bad call. */
static void test_stats_and_prometheus(void) {
    pxp_stats before = {.struct_size = sizeof(pxp_stats)}, after = {.struct_size = sizeof(pxp_stats)};
    CHECK(pxp_stats_snapshot(NULL) == PXP_ERR_INVALID_ARGUMENT, "NULL snapshot");
    pxp_stats unsized = {0};
    CHECK(pxp_stats_snapshot(&unsized) == PXP_ERR_INVALID_ARGUMENT, "struct_size unset");
    CHECK(pxp_stats_snapshot(&before) == PXP_OK, "snapshot");
    size_t len;
    unsigned char *data = corpus_file("png/L_16.png", &len);
    CHECK(data != NULL, "corpus png");
    if (!data) return;
    size_t out_bytes = 0;
    for (int k = 0; k < 2; k++) {
        pxp_buffer *out = NULL;
        CHECK(pxp_compress(data, len, NULL, &out) == PXP_OK, "compress");
        out_bytes += pxp_buffer_len(out);
        pxp_buffer_free(out);
    }
    pxp_buffer *bad = NULL;
    CHECK(pxp_compress((const uint8_t *)"not an image", 12, NULL, &bad) == PXP_ERR_UNSUPPORTED_FORMAT, "bad");
    CHECK(pxp_stats_snapshot(&after) == PXP_OK, "snapshot after");
    CHECK(after.images - before.images == 2, "images +%llu", (unsigned long long)(after.images - before.images));
    CHECK(after.bytes_in - before.bytes_in == 2 * len, "bytes in");
    CHECK(after.bytes_out - before.bytes_out == out_bytes, "bytes out");
    CHECK(after.errors[PXP_ERR_UNSUPPORTED_FORMAT] - before.errors[PXP_ERR_UNSUPPORTED_FORMAT] == 1, "error by kind");
    CHECK(after.in_flight == 0, "nothing in flight");
    CHECK(after.stage_count[PXP_STAT_DECODE] - before.stage_count[PXP_STAT_DECODE] == 2, "decode runs");
    CHECK(after.stage_seconds[PXP_STAT_ENCODE] > before.stage_seconds[PXP_STAT_ENCODE], "encode time");
    CHECK(strcmp(pxp_stat_stage_name(PXP_STAT_CHECKPOINT), "checkpoint") == 0, "stage name");
    CHECK(pxp_stat_stage_name(PXP_STAT_STAGES) == NULL, "stage out of range");

    char *text = pxp_metrics_prometheus();
    CHECK(text != NULL, "prometheus text");
    if (text) {
        CHECK(sample(text, "pixpress_images_total") == (double)after.images, "text images");
        CHECK(sample(text, "pixpress_errors_total{kind=\"PXP_ERR_UNSUPPORTED_FORMAT\"}") ==
                  (double)after.errors[PXP_ERR_UNSUPPORTED_FORMAT], "text errors");
        CHECK(sample(text, "pixpress_stage_duration_seconds_count{stage=\"decode\"}") ==
                  (double)after.stage_count[PXP_STAT_DECODE], "text decode count");
        CHECK(strstr(text, "# TYPE pixpress_stage_duration_seconds histogram\n") != NULL, "histogram type");
    }
    pxp_string_free(text);
    pxp_string_free(NULL);

    /* Under a budget smaller than one call, calls still run (alone), and the
     * budget shows in the snapshot. */
    pxp_set_memory_budget(1);
    pxp_buffer *out = NULL;
    CHECK(pxp_compress(data, len, NULL, &out) == PXP_OK, "compress under a budget");
    pxp_buffer_free(out);
    pxp_stats budgeted = {.struct_size = sizeof(pxp_stats)};
    CHECK(pxp_stats_snapshot(&budgeted) == PXP_OK, "snapshot under a budget");
    CHECK(budgeted.memory_budget == 1 && budgeted.memory_admitted == 0, "budget %llu admitted %llu",
          (unsigned long long)budgeted.memory_budget, (unsigned long long)budgeted.memory_admitted);
    CHECK(budgeted.memory_admitted_peak >= 2 * len, "peak admitted %llu", (unsigned long long)budgeted.memory_admitted_peak);
    pxp_set_memory_budget(0);

    /* The same compression again takes its buffers from the pools; the text
     * agrees with the snapshot; a limit of 0 empties the pools. */
    size_t photo_len;
    unsigned char *photo = corpus_file("jpeg/jolla.jpg", &photo_len);
    CHECK(photo != NULL, "corpus photo");
    pxp_set_buffer_pool_limit(64u << 20);
    pxp_stats warm = {.struct_size = sizeof(pxp_stats)}, pooled = {.struct_size = sizeof(pxp_stats)};
    for (int k = 0; photo && k < 2; k++) {
        if (k == 1) CHECK(pxp_stats_snapshot(&warm) == PXP_OK, "snapshot before pooled call");
        out = NULL;
        CHECK(pxp_compress(photo, photo_len, NULL, &out) == PXP_OK, "compress photo");
        pxp_buffer_free(out);
    }
    free(photo);
    CHECK(pxp_stats_snapshot(&pooled) == PXP_OK, "snapshot after pooled call");
    CHECK(pooled.pool_hits > warm.pool_hits, "pool hits %llu -> %llu", (unsigned long long)warm.pool_hits,
          (unsigned long long)pooled.pool_hits);
    text = pxp_metrics_prometheus();
    CHECK(text && sample(text, "pixpress_pool_hits_total") == (double)pooled.pool_hits, "text pool hits");
    pxp_string_free(text);
    pxp_set_buffer_pool_limit(0);
    CHECK(pxp_stats_snapshot(&pooled) == PXP_OK && pooled.pool_held_bytes == 0, "pool emptied");

    free(data);
}

/* The interceptor: checks the view (after the web policy: no GPS, the make
 * kept), sets the artist, removes the software tag; with user_data "fail",
 * refuses. */
static int on_metadata(void *user_data, const pxp_metadata *view, pxp_metadata_edit *edit) {
    if (user_data && strcmp((const char *)user_data, "fail") == 0) return 7;
    if (pxp_metadata_get(view, "EXIF:GPS:GPSLatitude") || !pxp_metadata_get(view, "EXIF:IFD0:Make")) return 1;
    if (pxp_metadata_edit_set(edit, "EXIF:IFD0:Artist", "C Interceptor") != PXP_OK) return 2;
    if (pxp_metadata_edit_remove(edit, "EXIF:IFD0:Software") != PXP_OK) return 3;
    if (pxp_metadata_edit_set(edit, "EXIF:IFD0:NoSuchTag", "x") != PXP_ERR_INVALID_ARGUMENT) return 4;
    return 0;
}

/* Read, diff, interceptor, restore record and restore, rewrite in place. */
static void test_metadata(void) {
    size_t len;
    unsigned char *data = corpus_file("jpeg/gps_DSCN0010.jpg", &len);
    CHECK(data != NULL, "read gps_DSCN0010.jpg");
    if (!data) return;
    pxp_metadata *before = NULL, *after = NULL;
    CHECK(pxp_metadata_read(data, len, &before) == PXP_OK, "read: %s", pxp_last_error_message());
    CHECK(pxp_metadata_count(before) > 20, "fields: %zu", pxp_metadata_count(before));
    const char *key = NULL, *value = NULL;
    CHECK(pxp_metadata_field(before, 0, &key, &value) == PXP_OK && key && value, "field 0");
    CHECK(pxp_metadata_field(before, 100000, &key, &value) == PXP_ERR_INVALID_ARGUMENT, "field out of range");
    const char *make = pxp_metadata_get(before, "EXIF:IFD0:Make");
    CHECK(make && strcmp(make, "NIKON") == 0, "make %s", make ? make : "(null)");

    pxp_options *o = pxp_options_new();
    CHECK(pxp_options_set(o, "metadata", "web") == PXP_OK, "web");
    CHECK(pxp_options_set(o, "restore_record", "true") == PXP_OK, "restore_record");
    CHECK(pxp_options_set_interceptor(o, on_metadata, NULL) == PXP_OK, "interceptor");
    pxp_buffer *out = NULL;
    CHECK(pxp_compress(data, len, o, &out) == PXP_OK, "compress: %s", pxp_last_error_message());
    CHECK(pxp_metadata_read(pxp_buffer_data(out), pxp_buffer_len(out), &after) == PXP_OK, "read output");
    const char *artist = pxp_metadata_get(after, "EXIF:IFD0:Artist");
    CHECK(artist && strcmp(artist, "C Interceptor") == 0, "artist %s", artist ? artist : "(null)");
    CHECK(pxp_metadata_get(before, "EXIF:IFD0:Software") && !pxp_metadata_get(after, "EXIF:IFD0:Software"), "removed");
    CHECK(pxp_metadata_get(after, "EXIF:GPS:GPSLatitude") == NULL, "web removed GPS");
    char *diff = pxp_metadata_diff_json(before, after);
    CHECK(diff && strstr(diff, "\"removed\"") && strstr(diff, "GPSLatitude"), "diff %s", diff ? diff : "(null)");
    pxp_string_free(diff);
    char *json = pxp_metadata_json(after);
    CHECK(json && json[0] == '[' && strstr(json, "C Interceptor"), "json");
    pxp_string_free(json);

    const uint8_t *record = NULL;
    size_t record_len = pxp_buffer_restore_record(out, &record);
    CHECK(record_len > 0 && record, "restore record");
    pxp_buffer *restored = NULL;
    CHECK(pxp_restore_metadata(pxp_buffer_data(out), pxp_buffer_len(out), record, record_len, &restored) == PXP_OK,
          "restore: %s", pxp_last_error_message());
    pxp_metadata *back = NULL;
    CHECK(pxp_metadata_read(pxp_buffer_data(restored), pxp_buffer_len(restored), &back) == PXP_OK, "read restored");
    CHECK(pxp_metadata_get(back, "EXIF:GPS:GPSLatitude") != NULL, "GPS is back");
    CHECK(pxp_metadata_get(back, "EXIF:IFD0:Artist") == NULL, "the interceptor's edit is undone too");
    CHECK(pxp_buffer_width(restored) == pxp_buffer_width(out), "same pixels");
    pxp_buffer *refused = NULL;
    CHECK(pxp_restore_metadata(pxp_buffer_data(out), pxp_buffer_len(out), (const uint8_t *)"junk", 4, &refused) ==
              PXP_ERR_INVALID_ARGUMENT && refused == NULL,
          "bad record");

    /* A failing interceptor fails the call and writes nothing. */
    pxp_buffer *none = NULL;
    CHECK(pxp_options_set_interceptor(o, on_metadata, (void *)"fail") == PXP_OK, "interceptor");
    CHECK(pxp_compress(data, len, o, &none) == PXP_ERR_INTERCEPTOR && none == NULL, "failing interceptor");
    CHECK(strstr(pxp_last_error_message(), "returned 7") != NULL, "message %s", pxp_last_error_message());
    char in_path[1024], out_dir[] = "/tmp/pxp-interceptor-XXXXXX", out_path[1100];
    snprintf(in_path, sizeof in_path, "%s/jpeg/gps_DSCN0010.jpg", corpus_dir());
    CHECK(mkdtemp(out_dir) != NULL, "mkdtemp");
    snprintf(out_path, sizeof out_path, "%s/out.jpg", out_dir);
    CHECK(pxp_compress_file(in_path, out_path, o) == PXP_ERR_INTERCEPTOR, "compress_file with a failing interceptor");
    CHECK(access(out_path, F_OK) != 0, "no output file left");
    CHECK(rmdir(out_dir) == 0, "the directory is empty (no temporary file either)");

    /* Rewrite in place: the policy without re-encoding. */
    pxp_options *strip = pxp_options_new();
    CHECK(pxp_options_set(strip, "metadata", "strip") == PXP_OK, "strip");
    pxp_buffer *rewritten = NULL;
    CHECK(pxp_rewrite_metadata(pxp_buffer_data(restored), pxp_buffer_len(restored), strip, &rewritten) == PXP_OK,
          "rewrite: %s", pxp_last_error_message());
    CHECK(pxp_buffer_len(rewritten) < pxp_buffer_len(restored), "smaller without metadata");

    pxp_buffer_free(rewritten);
    pxp_options_free(strip);
    pxp_metadata_free(back);
    pxp_buffer_free(restored);
    pxp_metadata_free(after);
    pxp_metadata_free(before);
    pxp_buffer_free(out);
    pxp_options_free(o);
    free(data);
}

int main(void) {
    test_version();
    test_status_names();
    test_options();
    test_null_arguments();
    test_animation_and_operations();
    test_probe_struct_size();
    test_decode_encode_round_trip();
    test_progress_and_cancel();
    test_compress_file();
    test_session();
    test_score_and_target();
    test_watermark();
    test_analyze_and_auto();
    test_stats_and_prometheus();
    test_metadata();
    test_bad_files();
    test_corpus_to_every_format();
    CHECK_EXIT();
}
