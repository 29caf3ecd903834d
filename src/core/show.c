/* "nestor show": prints images as JSON, walking the protobuf descriptors so
 * every field of every image kind is shown without code of its own. */
#define LOG_PREFIX "show: "
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "core/image.h"
#include "core/log.h"
#include "core/show.h"
#include "core/util.h"

static void print_msg(FILE *out, const ProtobufCMessage *m, int indent);

static void print_str(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void print_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *p, int indent)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(out, "%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(out, "%u", *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(out, "%lld", (long long)*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t v = *(const uint64_t *)p;
		/* Addresses read better in hex; JSON has no hex, so they are strings. */
		if (v > 0xffffffffULL)
			fprintf(out, "\"%#llx\"", (unsigned long long)v);
		else
			fprintf(out, "%llu", (unsigned long long)v);
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT:
		fprintf(out, "%g", *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		fprintf(out, "%g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", out);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		if (ev)
			fprintf(out, "\"%s\"", ev->name);
		else
			fprintf(out, "%d", *(const int *)p);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		print_str(out, s ? s : "", s ? strlen(s) : 0);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		fprintf(out, "{\"bytes\": %zu, \"hex\": \"", b->len);
		for (size_t i = 0; i < b->len && i < 64; i++)
			fprintf(out, "%02x", b->data[i]);
		fprintf(out, "%s\"}", b->len > 64 ? "..." : "");
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		print_msg(out, *(ProtobufCMessage *const *)p, indent);
		break;
	}
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

static void print_msg(FILE *out, const ProtobufCMessage *m, int indent)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	bool first = true;

	fputs("{", out);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m + f->offset;

		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
		    !*(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset))
			continue;
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    !*(void *const *)base)
			continue;
		fprintf(out, "%s\n%*s\"%s\": ", first ? "" : ",", indent + 2, "", f->name);
		first = false;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			const char *arr = *(char *const *)base;

			fputs("[", out);
			for (size_t k = 0; k < n; k++) {
				fputs(k ? ", " : "", out);
				print_value(out, f, arr + k * value_size(f), indent + 2);
			}
			fputs("]", out);
		} else {
			print_value(out, f, base, indent + 2);
		}
	}
	fprintf(out, "\n%*s}", indent, "");
}

static int show_file(int dirfd, const char *name, FILE *out)
{
	int type = img_type_of(name);
	struct img img;
	int pid = 0, r;
	bool first = true;
	void *m;

	if (type < 0) {
		if (!strncmp(name, "pages-", 6))
			return 0;
		return log_error_ret(-EINVAL, "%s is not a nestor image", name);
	}
	if (img_descs[type].per_task && sscanf(name + strlen(img_descs[type].prefix), "-%d.img", &pid) != 1)
		return log_error_ret(-EINVAL, "%s is not a nestor image", name);
	r = img_open(dirfd, type, pid, &img);
	if (r < 0)
		return r;
	fprintf(out, "  \"%s\": [", name);
	while ((r = img_read(&img, &m)) > 0) {
		fprintf(out, "%s\n    ", first ? "" : ",");
		print_msg(out, m, 4);
		img_free(type, m);
		first = false;
	}
	fprintf(out, "\n  ]");
	img_close(&img);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cr_show(const char *path)
{
	struct stat st;
	_cleanup_close_ int dirfd = -1;
	_cleanup_closedir_ DIR *d = NULL;
	char *names[1024];
	size_t n = 0;
	int r = 0;

	if (stat(path, &st))
		return log_error_errno(-errno, "cannot open %s", path);
	if (!S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *dir = strdup(path);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		const char *name = slash ? slash + 1 : path;

		if (!dir)
			return -ENOMEM;
		if (slash)
			*slash = 0;
		dirfd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return log_error_errno(-errno, "cannot open %s", path);
		printf("{\n");
		r = show_file(dirfd, name, stdout);
		printf("\n}\n");
		return r;
	}
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fdopendir(dup(dirfd));
	if (dirfd < 0 || !d)
		return log_error_errno(-errno, "cannot open %s", path);
	for (struct dirent *de; (de = readdir(d)) && n < ARRAY_SIZE(names);)
		if (img_type_of(de->d_name) >= 0)
			names[n++] = strdup(de->d_name);
	if (!n)
		return log_error_ret(-ENOENT, "%s holds no nestor images", path);
	qsort(names, n, sizeof(*names), name_cmp);
	printf("{\n");
	for (size_t i = 0; i < n; i++) {
		if (!r && names[i]) {
			if (i)
				printf(",\n");
			r = show_file(dirfd, names[i], stdout);
		}
		free(names[i]);
	}
	printf("\n}\n");
	return r;
}
