/* Unit tests of the image codec: round trips, and every kind of damage. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/image.h"
#include "core/log.h"
#include "unit.h"

static char dir[] = "/tmp/nestor-unit.XXXXXX";
static int dirfd_;

static int write_sample(uint64_t nr)
{
	MmEntry mm = MM_ENTRY__INIT;
	PageRunEntry run = PAGE_RUN_ENTRY__INIT, *runs[1] = { &run };

	run.vaddr = 0x1000;
	run.nr_pages = nr;
	mm.runs = runs;
	mm.n_runs = 1;
	mm.nr_pages = nr;
	return img_write_one(dirfd_, IMG_MM, 42, &mm);
}

static int read_sample(uint64_t *ret_nr)
{
	MmEntry *mm = NULL;
	int r = img_read_one(dirfd_, IMG_MM, 42, (void **)&mm);

	if (r == 0) {
		*ret_nr = mm->runs[0]->nr_pages;
		img_free(IMG_MM, mm);
	}
	return r;
}

static void patch(off_t off, uint8_t val)
{
	int fd = openat(dirfd_, "mm-42.img", O_WRONLY);
	(void)!pwrite(fd, &val, 1, off);
	close(fd);
}

static off_t img_size(void)
{
	struct stat st;
	fstatat(dirfd_, "mm-42.img", &st, 0);
	return st.st_size;
}

int main(void)
{
	uint64_t nr = 0;
	off_t size;

	log_init(-1, -1, NULL); /* keep expected errors quiet */
	if (!mkdtemp(dir))
		return 1;
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);

	CHECK("round trip", write_sample(77) == 0 && read_sample(&nr) == 0 && nr == 77);
	size = img_size();
	CHECK("size is header + entry header + message", size > 16 && size < 64);

	patch(size - 1, 0xff);
	CHECK("a flipped byte is caught by the checksum", read_sample(&nr) < 0);
	write_sample(77);
	patch(0, 0x00);
	CHECK("bad magic refused", read_sample(&nr) < 0);
	write_sample(77);
	patch(4, 2);
	CHECK("other format version refused", read_sample(&nr) < 0);
	write_sample(77);
	{
		char p[64];
		snprintf(p, sizeof(p), "%s/mm-42.img", dir);
		CHECK("truncated payload refused", truncate(p, size - 2) == 0 && read_sample(&nr) < 0);
		CHECK("truncated header refused", truncate(p, 6) == 0 && read_sample(&nr) < 0);
		CHECK("empty image refused", truncate(p, 8) == 0 && read_sample(&nr) < 0);
	}
	write_sample(77);
	patch(8, 0xff);
	patch(11, 0x7f);
	CHECK("huge length refused", read_sample(&nr) < 0);
	CHECK("missing image refused", img_read_one(dirfd_, IMG_CORE, 42, (void **)&nr) < 0);
	{
		void *m;
		uint8_t junk[16] = { 4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
		CHECK("decode short buffer", img_decode(IMG_MM, junk, 6, &m) < 0);
		CHECK("decode bad crc", img_decode(IMG_MM, junk, 12, &m) < 0);
	}
	CHECK("type of names", img_type_of("mm-42.img") == IMG_MM &&
				       img_type_of("inventory.img") == IMG_INVENTORY &&
				       img_type_of("pages-42.img") < 0 && img_type_of("mmx") < 0);
	unlinkat(dirfd_, "mm-42.img", 0);
	rmdir(dir);
	UNIT_END();
}
