/* A panic inside the library becomes PXP_ERR_INTERNAL with a message, never an
 * unwind into C, and the library keeps working afterwards. The panic is injected
 * with the failpoint panic.decode (PIXPRESS_FAILPOINT=panic.decode:1: the first
 * compress call panics right after sniffing its input). */
#define _POSIX_C_SOURCE 200809L
#include "pixpress.h"
#include "check.h"

#include <stdlib.h>

int main(void) {
    setenv("PIXPRESS_FAILPOINT", "panic.decode:1", 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/jpeg/hopper.jpg", corpus_dir());
    size_t len;
    unsigned char *data = read_file(path, &len);
    CHECK(data != NULL, "read hopper.jpg");
    pxp_buffer *out = NULL;
    pxp_status s = pxp_compress(data, len, NULL, &out);
    CHECK(s == PXP_ERR_INTERNAL, "status %s", pxp_status_name(s));
    CHECK(out == NULL, "no buffer after a panic");
    CHECK(strstr(pxp_last_error_message(), "failpoint panic.decode") != NULL, "message \"%s\"",
          pxp_last_error_message());
    s = pxp_compress(data, len, NULL, &out);
    CHECK(s == PXP_OK && pxp_buffer_len(out) > 0, "the next call works: %s", pxp_status_name(s));
    pxp_buffer_free(out);
    free(data);
    CHECK_EXIT();
}
