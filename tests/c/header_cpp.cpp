// include/pixpress.h compiles as C++17 and links: a small smoke test.
#include "pixpress.h"

#include <cstdio>
#include <cstring>
#include <memory>

struct options_deleter {
    void operator()(pxp_options *o) const { pxp_options_free(o); }
};
struct buffer_deleter {
    void operator()(pxp_buffer *b) const { pxp_buffer_free(b); }
};

int main() {
    std::unique_ptr<pxp_options, options_deleter> options(pxp_options_new());
    if (pxp_options_set(options.get(), "format", "png") != PXP_OK) return 1;
    const unsigned char pixels[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    pxp_buffer *raw = nullptr;
    pxp_status status = pxp_encode(pixels, 2, 2, 6, PXP_LAYOUT_RGB, options.get(), &raw);
    std::unique_ptr<pxp_buffer, buffer_deleter> png(raw);
    if (status != PXP_OK) {
        std::fprintf(stderr, "encode: %s\n", pxp_last_error_message());
        return 1;
    }
    pxp_info info{};
    info.struct_size = sizeof info;
    if (pxp_probe(pxp_buffer_data(png.get()), pxp_buffer_len(png.get()), &info) != PXP_OK) return 1;
    if (info.format != PXP_FORMAT_PNG || info.width != 2 || info.height != 2) return 1;
    std::printf("C++: pixpress %s, ABI %u\n", pxp_version(), pxp_abi_version());
    return 0;
}
