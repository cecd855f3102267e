#!/usr/bin/env python3
"""An independent PNG decoder for the tests of FlowModels' PNGImage.

Reads the PNG file named on the command line with nothing but the standard
library (struct + zlib), checks the signature, every chunk's CRC-32, the
IHDR fields and the chunk order, undoes the five scanline filters of the
PNG specification (2nd edition, section 9), and prints one JSON object:
{"width", "height", "colorType", "bitDepth", "channels", "chunks",
"filters" (one per row), "pixels" (row-major, channels interleaved)}.
Any violation prints a message to stderr and exits with status 1.
"""
import json
import struct
import sys
import zlib

SIGNATURE = bytes([137, 80, 78, 71, 13, 10, 26, 10])
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    if pb <= pc:
        return b
    return c


def main(path):
    data = open(path, "rb").read()
    if data[:8] != SIGNATURE:
        fail("bad signature %r" % data[:8])
    offset = 8
    chunks = []
    header = None
    idat = b""
    while offset < len(data):
        if offset + 12 > len(data):
            fail("truncated chunk at %d" % offset)
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        if zlib.crc32(kind + body) != crc:
            fail("CRC mismatch in chunk %r" % kind)
        chunks.append(kind.decode("ascii"))
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    if not chunks or chunks[0] != "IHDR" or chunks[-1] != "IEND":
        fail("chunk order %r" % chunks)
    width, height, bit_depth, color_type, compression, filter_method, interlace = header
    if bit_depth != 8 or color_type not in CHANNELS or (compression, filter_method, interlace) != (0, 0, 0):
        fail("unsupported IHDR %r" % (header,))
    if width < 1 or height < 1:
        fail("empty image %dx%d" % (width, height))
    channels = CHANNELS[color_type]
    stride = width * channels
    raw = zlib.decompress(idat)
    if len(raw) != height * (stride + 1):
        fail("decompressed %d bytes, expected %d" % (len(raw), height * (stride + 1)))
    pixels = []
    filters = []
    previous = [0] * stride
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], list(line[1:])
        filters.append(kind)
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = a
            elif kind == 2:
                predictor = b
            elif kind == 3:
                predictor = (a + b) // 2
            elif kind == 4:
                predictor = paeth(a, b, c)
            else:
                fail("unknown filter %d in row %d" % (kind, y))
            row[i] = (row[i] + predictor) & 0xFF
        pixels.extend(row)
        previous = row
    print(json.dumps({
        "width": width, "height": height, "colorType": color_type, "bitDepth": bit_depth,
        "channels": channels, "chunks": chunks, "filters": filters, "pixels": pixels,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
