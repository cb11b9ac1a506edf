/* 8 threads x 50 compressions of mixed corpus files, all through one shared
 * pxp_options handle, give byte-identical results to the same work done
 * serially. */
#define _POSIX_C_SOURCE 200809L
#include "pixpress.h"
#include "check.h"

#include <pthread.h>

#define THREADS 8
#define ROUNDS 50

static const char *FILES[] = {
    "jpeg/hopper.jpg",          "png/hopper.png",   "webp/hopper.webp", "gif/hopper.gif",
    "tiff/hopper.tif",          "avif/hopper.avif", "heic/RGBA_10bit_128x128.heif", "jpeg/Landscape_6.jpg",
};
#define NFILES (sizeof FILES / sizeof *FILES)

typedef struct blob {
    unsigned char *data;
    size_t len;
} blob;

static blob inputs[NFILES];
static blob expected[NFILES];
static const pxp_options *shared;

typedef struct worker {
    int id;
    int mismatches;
    int failures;
} worker;

static void *run(void *arg) {
    worker *w = arg;
    for (int r = 0; r < ROUNDS; r++) {
        size_t f = (size_t)(w->id * 7 + r) % NFILES;
        pxp_buffer *out = NULL;
        if (pxp_compress(inputs[f].data, inputs[f].len, shared, &out) != PXP_OK) {
            w->failures++;
            continue;
        }
        if (pxp_buffer_len(out) != expected[f].len ||
            memcmp(pxp_buffer_data(out), expected[f].data, expected[f].len) != 0)
            w->mismatches++;
        pxp_buffer_free(out);
    }
    return NULL;
}

int main(void) {
    pxp_options *o = pxp_options_new();
    CHECK(pxp_options_set(o, "format", "webp") == PXP_OK, "format");
    CHECK(pxp_options_set(o, "resize", "96x96") == PXP_OK, "resize");
    shared = o;
    for (size_t f = 0; f < NFILES; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", corpus_dir(), FILES[f]);
        inputs[f].data = read_file(path, &inputs[f].len);
        CHECK(inputs[f].data != NULL, "read %s", path);
        pxp_buffer *out = NULL;
        CHECK(pxp_compress(inputs[f].data, inputs[f].len, o, &out) == PXP_OK, "serial %s: %s", FILES[f],
              pxp_last_error_message());
        expected[f].len = pxp_buffer_len(out);
        expected[f].data = malloc(expected[f].len);
        memcpy(expected[f].data, pxp_buffer_data(out), expected[f].len);
        pxp_buffer_free(out);
    }
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){t, 0, 0};
        CHECK(pthread_create(&threads[t], NULL, run, &workers[t]) == 0, "spawn");
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        CHECK(workers[t].failures == 0 && workers[t].mismatches == 0, "thread %d: %d failed, %d differ", t,
              workers[t].failures, workers[t].mismatches);
    }
    fprintf(stderr, "%d threads x %d compressions compared\n", THREADS, ROUNDS);
    for (size_t f = 0; f < NFILES; f++) {
        free(inputs[f].data);
        free(expected[f].data);
    }
    pxp_options_free(o);
    CHECK_EXIT();
}
