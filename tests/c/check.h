/* A minimal test harness shared by the C tests: CHECK records a failure and
 * goes on; the program's exit status is the number of failures (capped). */
#ifndef PXP_TEST_CHECK_H
#define PXP_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        check_count++;                                                       \
        if (!(cond)) {                                                       \
            check_failures++;                                                \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

/* Reads a whole file; returns NULL (and *len 0) when it cannot. */
static inline unsigned char *read_file(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    unsigned char *data = malloc(size > 0 ? (size_t)size : 1);
    if (data && fread(data, 1, (size_t)size, f) != (size_t)size) { free(data); data = NULL; }
    fclose(f);
    if (data) *len = (size_t)size;
    return data;
}

/* The corpus directory: $PIXPRESS_CORPUS or ../shared/corpus. */
static inline const char *corpus_dir(void) {
    const char *dir = getenv("PIXPRESS_CORPUS");
    return dir && *dir ? dir : "../shared/corpus";
}

/* One MANIFEST.tsv row: path, size in bytes, width, height. */
typedef struct manifest_row {
    char path[512];
    size_t bytes;
    unsigned width, height;
} manifest_row;

/* Reads MANIFEST.tsv into a malloc'ed array; returns the row count. */
static inline size_t read_manifest(manifest_row **rows) {
    char path[1024];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", corpus_dir());
    size_t len = 0;
    char *text = (char *)read_file(path, &len);
    *rows = NULL;
    if (!text) return 0;
    size_t cap = 256, n = 0;
    *rows = calloc(cap, sizeof **rows);
    char *save = NULL;
    text = realloc(text, len + 1);
    text[len] = '\0';
    int first = 1;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (first) { first = 0; continue; } /* header */
        char *fields[9] = {0};
        int f = 0;
        char *p = line;
        while (f < 9) {
            fields[f++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = '\0';
            p = tab + 1;
        }
        if (f < 7) continue;
        if (n == cap) { cap *= 2; *rows = realloc(*rows, cap * sizeof **rows); }
        manifest_row *r = &(*rows)[n++];
        snprintf(r->path, sizeof r->path, "%s", fields[0]);
        r->bytes = strtoul(fields[1], NULL, 10);
        r->width = (unsigned)strtoul(fields[5], NULL, 10);
        r->height = (unsigned)strtoul(fields[6], NULL, 10);
    }
    free(text);
    return n;
}

#define CHECK_EXIT()                                                          \
    do {                                                                      \
        fprintf(stderr, "%s: %d checks, %d failed\n", __FILE__, check_count, \
                check_failures);                                              \
        return check_failures > 100 ? 100 : check_failures;                   \
    } while (0)

#endif
