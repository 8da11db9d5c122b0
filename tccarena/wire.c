/* The frames between the snapshot checker (caller) and its helper process, both ways.
 *
 * The two ends share a socketpair. A frame is u32 type, u32 payload length, payload;
 * everything is host-endian, since both ends are the same build of vmslim (the helper
 * is exec'd from the caller's install). The conversation of one snapshot:
 *
 *   caller -> helper   SETUP           options, template and marker names, preamble
 *   helper -> caller   READY           u64 arena bytes, messages, files the preamble read
 *                   or PREAMBLE_FAIL   messages (the marker was never reached)
 *                   or SETUP_FAIL      u32 errno, reason (its sandbox could not be entered)
 *   caller -> child    CHECK           u32 time limit ms, u64 memory limit, the body
 *   child  -> caller   RESULT          u32 outcome, i32 signal, u64 arena bytes,
 *                                      f64 TCC ms, messages
 *                                      (or the helper, when the child died: no messages)
 *
 * A message travels as u32 flags (bit 0 in_asm, bit 1 cap_hit), u32 length, text; a
 * string as u32 length and bytes ("" stands for NULL); a string vector as u32 count and
 * strings. Decoders never read past the payload: a short or inconsistent frame is
 * -EPROTO, whoever sent it.
 */
#include "tccarena/internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- encoding ---- */

static void put(struct vms_buf *b, const void *p, size_t n)
{
	vms_buf_append(b, p, n);
}

static void put_u32(struct vms_buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put_u64(struct vms_buf *b, uint64_t v)
{
	put(b, &v, 8);
}

static void put_str(struct vms_buf *b, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : 0;
	put_u32(b, n);
	put(b, s ? s : "", n);
}

static void put_strv(struct vms_buf *b, char *const *v)
{
	uint32_t n = 0;
	for (char *const *p = v; p && *p; p++)
		n++;
	put_u32(b, n);
	for (char *const *p = v; p && *p; p++)
		put_str(b, *p);
}

static void put_msgs(struct vms_buf *b, const struct vms_raw_msgs *m)
{
	uint32_t n = m ? (uint32_t)m->n : 0;
	put_u32(b, n);
	for (size_t i = 0; i < n; i++) {
		put_u32(b, (uint32_t)(m->v[i].in_asm | m->v[i].cap_hit << 1));
		put_str(b, m->v[i].text);
	}
}

/* ---- decoding ---- */

struct reader {
	const char *p, *end;
	int bad;	/* a read ran past the payload: every later read yields zeroes */
};

static struct reader reader_of(const struct vms_wire_frame *f)
{
	return (struct reader){ f->data, f->data + f->len, 0 };
}

static int get(struct reader *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		memset(out, 0, n);
		return -1;
	}
	memcpy(out, r->p, n);
	r->p += n;
	return 0;
}

static uint32_t get_u32(struct reader *r)
{
	uint32_t v;
	get(r, &v, 4);
	return v;
}

static uint64_t get_u64(struct reader *r)
{
	uint64_t v;
	get(r, &v, 8);
	return v;
}

/* n bytes in place (NULL when the payload is shorter) */
static const char *get_bytes(struct reader *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	const char *s = r->p;
	r->p += n;
	return s;
}

/* An owned copy; NULL for the empty string, since optional paths travel as "". */
static char *get_str(struct reader *r)
{
	uint32_t n = get_u32(r);
	const char *s = get_bytes(r, n);
	return s && n ? vms_xstrndup(s, n) : NULL;
}

static char **get_strv(struct reader *r)
{
	uint32_t n = get_u32(r);
	if (r->bad || n > (uint32_t)(r->end - r->p) / 4) { /* each string takes 4 bytes at least */
		r->bad = 1;
		return NULL;
	}
	char **v = vms_xcalloc((size_t)n + 1, sizeof(*v));
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		v[i] = get_str(r);
		if (!v[i])
			v[i] = vms_xstrdup("");
	}
	return v;
}

/* Appends to m (the caller puts the snapshot's own messages first). */
static void get_msgs(struct reader *r, struct vms_raw_msgs *m)
{
	uint32_t n = get_u32(r);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		uint32_t flags = get_u32(r), len = get_u32(r);
		const char *s = get_bytes(r, len);
		if (s)
			vms_raw_msgs_add(m, vms_xstrndup(s, len), flags & 1, !!(flags & 2));
	}
}

/* ---- frame I/O ---- */

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_frame(int fd, enum vms_wire_type type, const struct vms_buf *b)
{
	if (b->len > UINT32_MAX)
		return -EMSGSIZE; /* the length field would wrap and desynchronize the stream */
	uint32_t hdr[2] = { type, (uint32_t)b->len };
	int rc = write_all(fd, hdr, sizeof(hdr));
	return rc < 0 ? rc : write_all(fd, b->data, b->len);
}

/* Sends the frame and frees b's data. */
static int send_and_free(int fd, enum vms_wire_type type, struct vms_buf *b)
{
	int rc = send_frame(fd, type, b);
	vms_buf_free(b);
	return rc;
}

/* Reads exactly n bytes; deadline < 0 waits forever. -ETIMEDOUT, -EPIPE on EOF. */
static int read_all(int fd, void *p, size_t n, double deadline)
{
	char *c = p;
	while (n) {
		if (deadline >= 0) {
			double left = deadline - vms_now_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			/* in slices: a long limit must not overflow poll's int timeout */
			int pr = poll(&pfd, 1, left > 60000 ? 60000 : (int)left + 1);
			if (pr < 0 && errno != EINTR)
				return -errno;
			if (pr <= 0)
				continue;
		}
		ssize_t r = read(fd, c, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int vms_wire_recv(int fd, double deadline, struct vms_wire_frame *f)
{
	memset(f, 0, sizeof(*f));
	uint32_t hdr[2];
	int rc = read_all(fd, hdr, sizeof(hdr), deadline);
	if (rc < 0)
		return rc;
	f->type = hdr[0];
	f->len = hdr[1];
	f->data = vms_xmalloc(f->len + 1);
	rc = read_all(fd, f->data, f->len, deadline);
	if (rc < 0) {
		vms_wire_frame_free(f);
		return rc;
	}
	f->data[f->len] = 0;
	return 0;
}

void vms_wire_frame_free(struct vms_wire_frame *f)
{
	free(f->data);
	memset(f, 0, sizeof(*f));
}

/* ---- SETUP ---- */

int vms_wire_send_setup(int fd, const struct vms_wire_setup *s)
{
	if (s->plen > UINT32_MAX)
		return -EMSGSIZE;
	struct vms_buf b = { 0 };
	put_str(&b, s->o.headers_dir);
	put_str(&b, s->o.tcc_lib_dir);
	put_str(&b, s->o.vmlinux_header);
	put_strv(&b, (char *const *)s->o.include_dirs);
	put_strv(&b, (char *const *)s->o.defines);
	put_u32(&b, (uint32_t)s->o.confine);
	put_u32(&b, s->o.sandbox_mech);
	put_str(&b, s->o.sandbox_root);
	put_strv(&b, s->cdirs);
	put_strv(&b, s->cfiles);
	put_str(&b, s->tmpl_path);
	put_str(&b, s->body_path);
	put_u32(&b, (uint32_t)s->plen);
	put(&b, s->preamble, s->plen);
	return send_and_free(fd, VMS_WIRE_SETUP, &b);
}

int vms_wire_get_setup(const struct vms_wire_frame *f, struct vms_wire_setup *s)
{
	memset(s, 0, sizeof(*s));
	if (f->type != VMS_WIRE_SETUP)
		return -EPROTO;
	struct reader r = reader_of(f);
	s->o.headers_dir = get_str(&r);
	s->o.tcc_lib_dir = get_str(&r);
	s->o.vmlinux_header = get_str(&r);
	s->o.include_dirs = (const char *const *)get_strv(&r);
	s->o.defines = (const char *const *)get_strv(&r);
	s->o.confine = (int)get_u32(&r);
	s->o.sandbox_mech = get_u32(&r);
	s->o.sandbox_root = get_str(&r);
	s->cdirs = get_strv(&r);
	s->cfiles = get_strv(&r);
	s->tmpl_path = get_str(&r);
	s->body_path = get_str(&r);
	s->plen = get_u32(&r);
	s->preamble = get_bytes(&r, s->plen);
	return r.bad || !s->o.headers_dir || !s->tmpl_path || !s->body_path ? -EPROTO : 0;
}

/* ---- READY and PREAMBLE_FAIL ---- */

int vms_wire_send_ready(int fd, uint64_t arena_bytes, const struct vms_raw_msgs *msgs,
			const struct vms_tracked_file *files, size_t n_files)
{
	struct vms_buf b = { 0 };
	put_u64(&b, arena_bytes);
	put_msgs(&b, msgs);
	put_u32(&b, (uint32_t)n_files);
	for (size_t i = 0; i < n_files; i++) {
		put_str(&b, files[i].path);
		put(&b, &files[i].st, sizeof(files[i].st));
	}
	return send_and_free(fd, VMS_WIRE_READY, &b);
}

int vms_wire_get_ready(const struct vms_wire_frame *f, struct vms_wire_ready *out)
{
	memset(out, 0, sizeof(*out));
	if (f->type != VMS_WIRE_READY)
		return -EPROTO;
	struct reader r = reader_of(f);
	out->arena_bytes = get_u64(&r);
	get_msgs(&r, &out->msgs);
	uint32_t n = get_u32(&r);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		char *path = get_str(&r);
		struct stat st;
		get(&r, &st, sizeof(st));
		if (r.bad) {
			free(path);
			break;
		}
		out->files = vms_xrealloc(out->files, (out->n_files + 1) * sizeof(*out->files));
		out->files[out->n_files++] = (struct vms_tracked_file){
			.path = path ? path : vms_xstrdup(""), .st = st };
	}
	return r.bad ? -EPROTO : 0;
}

int vms_wire_send_preamble_fail(int fd, const struct vms_raw_msgs *msgs)
{
	struct vms_buf b = { 0 };
	put_msgs(&b, msgs);
	return send_and_free(fd, VMS_WIRE_PREAMBLE_FAIL, &b);
}

int vms_wire_get_preamble_fail(const struct vms_wire_frame *f, struct vms_raw_msgs *msgs)
{
	if (f->type != VMS_WIRE_PREAMBLE_FAIL)
		return -EPROTO;
	struct reader r = reader_of(f);
	get_msgs(&r, msgs);
	return r.bad ? -EPROTO : 0;
}

int vms_wire_send_setup_fail(int fd, int err, const char *why)
{
	struct vms_buf b = { 0 };
	put_u32(&b, (uint32_t)err);
	put_str(&b, why);
	return send_and_free(fd, VMS_WIRE_SETUP_FAIL, &b);
}

int vms_wire_get_setup_fail(const struct vms_wire_frame *f, int *err, char **why)
{
	*why = NULL;
	if (f->type != VMS_WIRE_SETUP_FAIL)
		return -EPROTO;
	struct reader r = reader_of(f);
	*err = (int)get_u32(&r);
	*why = get_str(&r);
	if (r.bad) {
		free(*why);
		*why = NULL;
		return -EPROTO;
	}
	return 0;
}

/* ---- CHECK ---- */

int vms_wire_send_check(int fd, uint32_t time_ms, uint64_t mem_limit, const char *body,
			size_t len)
{
	struct vms_buf b = { 0 };
	put_u32(&b, time_ms);
	put_u64(&b, mem_limit);
	put(&b, body, len);
	return send_and_free(fd, VMS_WIRE_CHECK, &b);
}

int vms_wire_get_check(const struct vms_wire_frame *f, struct vms_wire_check *out)
{
	memset(out, 0, sizeof(*out));
	if (f->type != VMS_WIRE_CHECK)
		return -EPROTO;
	struct reader r = reader_of(f);
	out->time_ms = get_u32(&r);
	out->mem_limit = get_u64(&r);
	if (r.bad)
		return -EPROTO;
	out->body = r.p;
	out->len = (size_t)(r.end - r.p);
	return 0;
}

/* ---- RESULT ---- */

int vms_wire_send_result(int fd, const struct vms_wire_result *res,
			 const struct vms_raw_msgs *msgs)
{
	struct vms_buf b = { 0 };
	put_u32(&b, res->outcome);
	put(&b, &res->sig, 4);
	put_u64(&b, res->arena_bytes);
	put(&b, &res->tcc_ms, sizeof(res->tcc_ms));
	put_msgs(&b, msgs);
	return send_and_free(fd, VMS_WIRE_RESULT, &b);
}

int vms_wire_get_result(const struct vms_wire_frame *f, struct vms_wire_result *out,
			struct vms_raw_msgs *msgs)
{
	memset(out, 0, sizeof(*out));
	if (f->type != VMS_WIRE_RESULT)
		return -EPROTO;
	struct reader r = reader_of(f);
	out->outcome = get_u32(&r);
	get(&r, &out->sig, 4);
	out->arena_bytes = get_u64(&r);
	get(&r, &out->tcc_ms, sizeof(out->tcc_ms));
	get_msgs(&r, msgs);
	return r.bad ? -EPROTO : 0;
}
