/* to_webp_dir: every image in a directory (not recursive) to WebP in another,
 * through the in-memory API, with a summary like the CLI's.
 *
 *   to_webp_dir SRC_DIR DST_DIR [QUALITY]
 *
 * Files pixpress cannot read are reported and skipped; the exit status is 1
 * when any file failed. */
#define _POSIX_C_SOURCE 200809L
#include <pixpress.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    *len = 0;
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
        if (data && fread(data, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
            *len = (size_t)st.st_size;
        } else {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

static int write_all(const char *path, const unsigned char *data, size_t len) {
    /* pxp_compress_file writes atomically; with the in-memory API it is ours
     * to do: a temporary name, then rename. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, len, f) == len;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SRC_DIR DST_DIR [QUALITY]\n", argv[0]);
        return 2;
    }
    pxp_options *options = pxp_options_new();
    pxp_options_set_format(options, PXP_FORMAT_WEBP);
    if (argc > 3 && pxp_options_set(options, "quality", argv[3]) != PXP_OK) {
        fprintf(stderr, "%s\n", pxp_last_error_message());
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    if (mkdir(argv[2], 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    size_t files = 0, failed = 0, bytes_in = 0, bytes_out = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/%s", argv[1], entry->d_name);
        size_t len;
        unsigned char *data = read_all(src, &len);
        if (!data) continue; /* a directory or unreadable */
        files++;
        pxp_buffer *out = NULL;
        if (pxp_compress(data, len, options, &out) != PXP_OK) {
            fprintf(stderr, "%s: %s\n", entry->d_name, pxp_last_error_message());
            failed++;
            free(data);
            continue;
        }
        char *stem = strdup(entry->d_name);
        char *dot = strrchr(stem, '.');
        if (dot) *dot = '\0';
        snprintf(dst, sizeof dst, "%s/%s.webp", argv[2], stem);
        if (write_all(dst, pxp_buffer_data(out), pxp_buffer_len(out)) != 0) {
            fprintf(stderr, "%s: cannot write\n", dst);
            failed++;
        } else {
            bytes_in += len;
            bytes_out += pxp_buffer_len(out);
            printf("%-40s %5u x %-5u %9zu -> %9zu bytes\n", entry->d_name, pxp_buffer_width(out),
                   pxp_buffer_height(out), len, pxp_buffer_len(out));
        }
        free(stem);
        pxp_buffer_free(out);
        free(data);
    }
    closedir(dir);
    pxp_options_free(options);
    printf("%zu files, %zu failed, %zu -> %zu bytes (%.1f%%)\n", files, failed, bytes_in, bytes_out,
           bytes_in ? 100.0 * (double)bytes_out / (double)bytes_in : 0.0);
    return failed ? 1 : 0;
}
