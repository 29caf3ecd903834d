// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the image reader. Input: one byte choosing the image
 * type, then the entries of an image file after its 8-byte header
 * ([u32 length][u32 crc32c][protobuf] ...), decoded with img_decode() until
 * the first error, as restore reads a file.
 *
 * Random bytes almost never carry a right crc32c, so a fuzzer would never
 * get past the checksum into the protobuf decoder. With bit 7 of the first
 * byte set, the checksum of every entry is recomputed before decoding; with
 * it clear, the input is decoded as it is, checksum check included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/image.h"
#include "core/util.h"

#define FIX_CRC 0x80

/* Rewrites the checksum of each entry whose length fits in buf. */
static void fix_crcs(uint8_t *buf, size_t len)
{
	size_t off = 0;
	uint32_t hdr[2];

	while (len - off >= sizeof(hdr)) {
		memcpy(hdr, buf + off, sizeof(hdr));
		if (hdr[0] > len - off - sizeof(hdr))
			return;
		hdr[1] = crc32c(0, buf + off + sizeof(hdr), hdr[0]);
		memcpy(buf + off, hdr, sizeof(hdr));
		off += sizeof(hdr) + hdr[0];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum img_type type;
	uint8_t *buf;
	size_t off = 0, len;

	if (size < 1)
		return 0;
	type = (data[0] & ~FIX_CRC) % IMG_NR_TYPES;
	len = size - 1;
	/* An exact-size copy: ASan then flags any read past the input. */
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if (data[0] & FIX_CRC)
		fix_crcs(buf, len);
	while (off < len) {
		void *msg = NULL;
		int r = img_decode(type, buf + off, len - off, &msg);

		if (r < 0)
			break;
		/* Forward progress is the decoder's promise: a zero would loop forever. */
		if (r < 8 || (size_t)r > len - off || !msg)
			abort();
		img_free(type, msg);
		off += r;
	}
	free(buf);
	return 0;
}
