// gzip (RFC 1952) of a buffer in memory with zlib, for `--format pprof`: pprof's profile.proto is
// read gzipped by go tool pprof, Pyroscope and Grafana.
#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#include "CShims.h"

int cshims_gzip(const uint8_t *input, size_t length, uint8_t **output, size_t *output_length) {
    *output = NULL;
    *output_length = 0;
    if (length > UINT_MAX) return -1;  // one deflate call takes at most UINT_MAX bytes
    z_stream z = {0};
    // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    size_t bound = deflateBound(&z, (uLong)length);
    uint8_t *buffer = malloc(bound > 0 ? bound : 1);
    if (!buffer) { deflateEnd(&z); return -1; }
    z.next_in = (Bytef *)input;
    z.avail_in = (uInt)length;
    z.next_out = buffer;
    z.avail_out = (uInt)bound;
    int status = deflate(&z, Z_FINISH);
    size_t written = z.total_out;
    deflateEnd(&z);
    if (status != Z_STREAM_END) { free(buffer); return -1; }
    *output = buffer;
    *output_length = written;
    return 0;
}
