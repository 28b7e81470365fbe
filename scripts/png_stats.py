#!/usr/bin/env python3
"""Prints what a PNG shows, for scripts/check-report.sh: size, colour count, and the share of
pixels that differ from the background (the most common colour); exits 1 if the image is blank
(fewer than --min-ink of its pixels differ from the background, default 0.5 %).

    usage: scripts/png_stats.py FILE.png [--min-ink FRACTION]

Decodes 8-bit greyscale, RGB and RGBA PNGs (what Chromium writes) with zlib and numpy: the five
scanline filters of the PNG specification (section 9) are undone row by row, None, Sub and Up
vectorised, Average and Paeth per byte.
"""

import struct
import sys
import zlib

import numpy as np


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"png_stats: {path} is not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        sys.exit(f"png_stats: {path}: only 8-bit, non-interlaced grey/RGB/RGBA PNGs are read (depth {depth}, colour type {colour})")
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    stride = width * channels
    rows = raw.reshape(height, stride + 1)
    image = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            out = line
        elif kind == 1:  # Sub: running sum per channel
            out = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1)
        elif kind == 2:  # Up
            out = line + previous
        else:
            out = np.zeros(stride, dtype=np.int32)
            up = previous.astype(np.int32)
            for i in range(stride):
                left = out[i - channels] if i >= channels else 0
                if kind == 3:  # Average
                    out[i] = (line[i] + (left + up[i]) // 2) & 0xFF
                else:  # Paeth
                    corner = up[i - channels] if i >= channels else 0
                    p = left + up[i] - corner
                    pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - corner)
                    predictor = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else corner)
                    out[i] = (line[i] + predictor) & 0xFF
        image[y] = out & 0xFF
        previous = image[y]
    return image.reshape(height, width, channels)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    min_ink = 0.005
    if "--min-ink" in args:
        min_ink = float(args[args.index("--min-ink") + 1])
    image = read_png(args[0])
    height, width, channels = image.shape
    pixels = image[:, :, :3].reshape(-1, min(channels, 3)) if channels >= 3 else image.reshape(-1, 1)
    packed = pixels.astype(np.uint32) @ (256 ** np.arange(pixels.shape[1], dtype=np.uint32))
    values, counts = np.unique(packed, return_counts=True)
    background = values[np.argmax(counts)]
    ink = float(np.mean(packed != background))
    print(f"{args[0]}: {width}x{height} px, {len(values)} colours, {ink * 100:.2f} % of pixels differ from the background")
    if ink < min_ink:
        print(f"png_stats: the image is blank (less than {min_ink * 100:.2f} % ink)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
