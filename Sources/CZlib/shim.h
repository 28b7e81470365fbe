#ifndef ATOLL_CZLIB_SHIM_H
#define ATOLL_CZLIB_SHIM_H

// zlib's inflate API (inflateInit2_, inflate, inflateEnd), used to read gzip-compressed datasets.
#include <zlib.h>

#endif
