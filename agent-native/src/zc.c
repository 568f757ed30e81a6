/*
 * The zc family's actions: pattern files, sendfile, MSG_ZEROCOPY with its
 * error-queue completions, mutation while in flight, and the peer's streaming
 * receivers (exact or per-block attribution, datagram matching). The oracles
 * follow harness/checks/zc/{pattern,verify,datagrams,mutation}.ts.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

#define STALL_MS 30000
#define COMPLETION_WAIT_MS 30000
#define CLOSE_WAIT_MS 60000

/* ---------------- seeded randomness (mulberry32, harness/codec/random.ts) ---------------- */

void rng_init(rng *r, double seed)
{
	long long s = (long long)seed;
	r->state = (uint32_t)s;
}

uint32_t rng_u32(rng *r)
{
	r->state += 0x6d2b79f5u;
	uint32_t t = r->state;
	t = (t ^ (t >> 15)) * (t | 1);
	t ^= t + (t ^ (t >> 7)) * (t | 61);
	return t ^ (t >> 14);
}

double rng_float(rng *r)
{
	return rng_u32(r) / 4294967296.0;
}

bool rng_bool(rng *r, double p)
{
	return rng_float(r) < p;
}

/* ---------------- the pattern ---------------- */

uint8_t zc_gen_keys[ZC_GENERATIONS];
int8_t zc_gen_of[256];

void zc_pattern_init(void)
{
	int n = 0;
	zc_gen_keys[n++] = 0;
	for (int v = 1; v < 256 && n < ZC_GENERATIONS; v++)
		if (__builtin_popcount((unsigned)v) % 2 == 0)
			zc_gen_keys[n++] = (uint8_t)v;
	memset(zc_gen_of, -1, sizeof(zc_gen_of));
	for (int g = 0; g < ZC_GENERATIONS; g++)
		zc_gen_of[zc_gen_keys[g]] = (int8_t)g;
}

typedef struct table {
	uint32_t seed;
	uint8_t *t;
	int refs;
	uint64_t used;
} table;

static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static table tabs[8];
static uint64_t tab_clock;

/* The seeded random table T of PERIOD bytes; the last few stay cached. */
static uint8_t *table_get(uint32_t seed)
{
	pthread_mutex_lock(&tab_lock);
	for (int i = 0; i < 8; i++)
		if (tabs[i].t && tabs[i].seed == seed) {
			tabs[i].refs++;
			tabs[i].used = ++tab_clock;
			pthread_mutex_unlock(&tab_lock);
			return tabs[i].t;
		}
	pthread_mutex_unlock(&tab_lock);
	uint8_t *t = malloc(ZC_PERIOD + 4);
	if (!t)
		abort();
	rng r = {seed ^ 0x7a3c5e11u};
	uint32_t i = 0;
	for (; i + 4 <= ZC_PERIOD; i += 4) {
		uint32_t v = rng_u32(&r);
		t[i] = (uint8_t)v;
		t[i + 1] = (uint8_t)(v >> 8);
		t[i + 2] = (uint8_t)(v >> 16);
		t[i + 3] = (uint8_t)(v >> 24);
	}
	if (i < ZC_PERIOD) {
		uint32_t last = rng_u32(&r);
		for (int k = 0; i < ZC_PERIOD; i++, k++)
			t[i] = (uint8_t)(last >> (8 * k));
	}
	pthread_mutex_lock(&tab_lock);
	int slot = -1;
	for (int k = 0; k < 8; k++) {
		if (tabs[k].t && tabs[k].seed == seed) { /* another thread made it meanwhile */
			tabs[k].refs++;
			pthread_mutex_unlock(&tab_lock);
			free(t);
			return tabs[k].t;
		}
		if (!tabs[k].t && slot < 0)
			slot = k;
	}
	if (slot < 0) {
		for (int k = 0; k < 8; k++)
			if (tabs[k].refs == 0 && (slot < 0 || tabs[k].used < tabs[slot].used))
				slot = k;
		if (slot >= 0) {
			free(tabs[slot].t);
			tabs[slot].t = NULL;
		}
	}
	if (slot >= 0)
		tabs[slot] = (table){seed, t, 1, ++tab_clock};
	pthread_mutex_unlock(&tab_lock);
	return t; /* all slots busy: a private table, freed by table_put */
}

static void table_put(uint8_t *t)
{
	pthread_mutex_lock(&tab_lock);
	for (int i = 0; i < 8; i++)
		if (tabs[i].t == t) {
			tabs[i].refs--;
			pthread_mutex_unlock(&tab_lock);
			return;
		}
	pthread_mutex_unlock(&tab_lock);
	free(t);
}

void fill_base(uint8_t *dst, size_t n, uint32_t seed, uint64_t offset)
{
	uint8_t *t = table_get(seed);
	size_t done = 0;
	while (done < n) {
		uint64_t pos = (offset + done) % ZC_PERIOD;
		size_t k = ZC_PERIOD - pos < n - done ? (size_t)(ZC_PERIOD - pos) : n - done;
		memcpy(dst + done, t + pos, k);
		done += k;
	}
	table_put(t);
	/* The 4 KiB page index (u64 LE) over the first 8 bytes of every page: no two pages look alike. */
	uint64_t end = offset + n;
	for (uint64_t page = offset / ZC_PAGE; page * ZC_PAGE < end; page++)
		for (int j = 0; j < 8; j++) {
			uint64_t at = page * ZC_PAGE + (uint64_t)j;
			if (at < offset || at >= end)
				continue;
			dst[at - offset] ^= (uint8_t)(page >> (8 * j));
		}
}

void fill_generation(uint8_t *dst, size_t n, uint32_t seed, uint64_t offset, int gen)
{
	fill_base(dst, n, seed, offset);
	uint8_t key = zc_gen_keys[gen];
	if (key)
		for (size_t i = 0; i < n; i++)
			dst[i] ^= key;
}

void fill_file(uint8_t *dst, size_t n, const zc_layout *l, uint64_t offset)
{
	fill_base(dst, n, l->seed, offset);
	for (size_t h = 0; h < l->nholes; h++) {
		uint64_t a = l->holes[h][0] > offset ? l->holes[h][0] : offset;
		uint64_t b = l->holes[h][1] < offset + n ? l->holes[h][1] : offset + n;
		if (a < b)
			memset(dst + (a - offset), 0, (size_t)(b - a));
	}
}

int parse_layout(err *e, const char *action, const jv *v, zc_layout *out)
{
	memset(out, 0, sizeof(*out));
	double seed, size;
	if (!v || v->t != J_OBJ)
		return fail(e, "USAGE", "%s: expected a file layout object", action);
	if (need_num(e, action, v, "seed", &seed) < 0 || need_num(e, action, v, "size", &size) < 0)
		return -1;
	if (size < 0 || size != (double)(uint64_t)size)
		return fail(e, "USAGE", "%s: expected a size ≥ 0, found %g", action, size);
	out->seed = (uint32_t)(long long)seed;
	out->size = (uint64_t)size;
	jv *holes = jget(v, "holes");
	if (holes && holes->t == J_ARR && holes->len) {
		out->holes = calloc(holes->len, sizeof(*out->holes));
		if (!out->holes)
			abort();
		for (size_t i = 0; i < holes->len; i++) {
			jv *h = holes->items[i];
			if (h->t != J_ARR || h->len != 2)
				continue;
			out->holes[out->nholes][0] = (uint64_t)h->items[0]->n;
			out->holes[out->nholes][1] = (uint64_t)h->items[1]->n;
			out->nholes++;
		}
	}
	return 0;
}

void layout_free(zc_layout *l)
{
	free(l->holes);
	l->holes = NULL;
}

/* What a receiver expects: `count` bytes of a file from `offset`, `repeat` times over. */
typedef struct stream_spec {
	zc_layout file;
	uint64_t offset, count, repeat;
} stream_spec;

static void fill_expected(uint8_t *dst, size_t n, const stream_spec *s, uint64_t pos)
{
	size_t done = 0;
	while (done < n) {
		uint64_t within = (pos + done) % s->count;
		size_t k = s->count - within < n - done ? (size_t)(s->count - within) : n - done;
		fill_file(dst + done, k, &s->file, s->offset + within);
		done += k;
	}
}

static int parse_spec(err *e, const char *action, const jv *v, stream_spec *out)
{
	memset(out, 0, sizeof(*out));
	double off, count;
	if (!v || v->t != J_OBJ)
		return fail(e, "USAGE", "%s: expected a stream spec object", action);
	if (parse_layout(e, action, jget(v, "file"), &out->file) < 0)
		return -1;
	if (need_num(e, action, v, "offset", &off) < 0 || need_num(e, action, v, "count", &count) < 0) {
		layout_free(&out->file);
		return -1;
	}
	out->offset = (uint64_t)off;
	out->count = (uint64_t)count;
	out->repeat = (uint64_t)opt_num(v, "repeat", 1);
	return 0;
}

/* ---------------- native memory ---------------- */

static uint8_t *map_mem(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	return p;
}

static void unmap_mem(uint8_t *p, size_t n)
{
	munmap(p, n ? n : 1);
}

/* ---------------- zc files ---------------- */

typedef struct zc_file {
	char path[512];
	zc_layout layout;
} zc_file;

static void zc_file_close(void *obj)
{
	zc_file *f = obj;
	unlink(f->path);
	layout_free(&f->layout);
	free(f);
}

static const char *tmpdir(void)
{
	static char dir[256];
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s", t && *t ? t : "/tmp");
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = 0;
	return dir;
}

static long long mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	if (kb >= 0)
		return kb * 1024;
	struct sysinfo si;
	sysinfo(&si);
	return (long long)si.freeram * si.mem_unit;
}

static int act_probe(const jv *p, sb *out, err *e)
{
	(void)p;
	(void)e;
	sb_open(out, '{');
	sb_kstr(out, "tmpdir", tmpdir());
	sb_kint(out, "memAvailableBytes", mem_available());
	sb_close(out, '}');
	return 0;
}

static int act_file_create(const jv *p, sb *out, err *e)
{
	zc_file *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	if (parse_layout(e, "zc.fileCreate", jget(p, "layout"), &f->layout) < 0) {
		free(f);
		return -1;
	}
	static unsigned serial;
	snprintf(f->path, sizeof(f->path), "%s/nicmatrix-%d-native-%u.bin", tmpdir(), (int)getpid(), __sync_add_and_fetch(&serial, 1));
	int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		char call[600];
		snprintf(call, sizeof(call), "open(%s)", f->path);
		fail_sys(e, call, NULL, errno);
		zc_file_close(f);
		return -1;
	}
	const size_t CHUNK = 1 << 20;
	uint8_t *buf = malloc(CHUNK);
	if (!buf)
		abort();
	int rc = ftruncate(fd, (off_t)f->layout.size);
	/* Holes are left unwritten: the file is sparse there. */
	uint64_t pos = 0;
	for (size_t h = 0; h <= f->layout.nholes && rc == 0; h++) {
		uint64_t end = h < f->layout.nholes ? f->layout.holes[h][0] : f->layout.size;
		for (uint64_t at = pos; at < end && rc == 0; at += CHUNK) {
			size_t n = end - at < CHUNK ? (size_t)(end - at) : CHUNK;
			fill_file(buf, n, &f->layout, at);
			if (pwrite(fd, buf, n, (off_t)at) != (ssize_t)n)
				rc = -1;
		}
		if (h < f->layout.nholes && f->layout.holes[h][1] > pos)
			pos = f->layout.holes[h][1];
	}
	free(buf);
	struct stat st;
	fstat(fd, &st);
	close(fd);
	if (rc != 0) {
		fail_sys(e, "pwrite()", f->path, errno);
		zc_file_close(f);
		return -1;
	}
	char id[40];
	res_add("zc-file", "zc-file", f, zc_file_close, id);
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_kstr(out, "path", f->path);
	sb_kint(out, "allocatedBytes", (long long)st.st_blocks * 512);
	sb_close(out, '}');
	return 0;
}

static int act_file_remove(const jv *p, sb *out, err *e)
{
	return res_close_action(p, out, e, "zc.fileRemove", "zc-file", "a zc file", zc_file_close, "{\"removed\":true}");
}

/* ---------------- stream receivers ---------------- */

typedef struct mismatch {
	uint64_t offset;
	char expected[40], found[40];
	bool end_of_stream; /* expected/found are "end of stream" */
} mismatch;

static void hex16(const uint8_t *p, size_t avail, size_t at, char out[40])
{
	size_t n = at < avail ? avail - at : 0;
	hex_of(p + at, n < 16 ? n : 16, out);
}

static void put_mismatch(sb *out, const mismatch *m)
{
	sb_open(out, '{');
	sb_kint(out, "offset", (long long)m->offset);
	sb_kstr(out, "expected", m->end_of_stream && !m->expected[0] ? "end of stream" : m->expected);
	sb_kstr(out, "found", m->end_of_stream && !m->found[0] ? "end of stream" : m->found);
	sb_close(out, '}');
}

typedef struct verifier {
	stream_spec spec;
	uint64_t total, pos, wrong, hashed;
	bool has_first;
	mismatch first;
	sha256 hash;
	uint8_t *scratch;
	size_t scap;
	/* Attribution (blockSize > 0). */
	uint64_t block;
	uint32_t *masks;
	size_t nmasks;
	uint64_t foreign;
	mismatch samples[8];
	int nsamples;
} verifier;

static uint8_t *scratch(verifier *v, size_t n)
{
	if (v->scap < n) {
		v->scap = n > 65536 ? n : 65536;
		free(v->scratch);
		v->scratch = malloc(v->scap);
		if (!v->scratch)
			abort();
	}
	return v->scratch;
}

/* Feeds the hash the expected bytes it is owed up to `end`: while the stream matches, hashing waits. */
static void hash_expected(verifier *v, uint64_t end)
{
	while (v->hashed < end) {
		size_t n = end - v->hashed < (1 << 20) ? (size_t)(end - v->hashed) : (1 << 20);
		uint8_t *exp = scratch(v, n);
		fill_expected(exp, n, &v->spec, v->hashed);
		sha256_update(&v->hash, exp, n);
		v->hashed += n;
	}
}

static void exact_update(verifier *v, const uint8_t *chunk, size_t n)
{
	uint64_t left = v->total > v->pos ? v->total - v->pos : 0;
	size_t in_range = left < n ? (size_t)left : n;
	if (in_range > 0) {
		uint8_t *exp = scratch(v, in_range);
		fill_expected(exp, in_range, &v->spec, v->pos);
		if (!v->has_first) {
			if (memcmp(chunk, exp, in_range)) {
				size_t at = 0;
				while (chunk[at] == exp[at])
					at++;
				v->has_first = true;
				v->first.offset = v->pos + at;
				hex16(exp, in_range, at, v->first.expected);
				hex16(chunk, in_range, at, v->first.found);
				for (size_t i = at; i < in_range; i++)
					v->wrong += chunk[i] != exp[i];
			}
		} else {
			for (size_t i = 0; i < in_range; i++)
				v->wrong += chunk[i] != exp[i];
		}
	}
	if (n > in_range && !v->has_first) {
		v->has_first = true;
		v->first.offset = v->total;
		v->first.expected[0] = 0;
		hex16(chunk, n, in_range, v->first.found);
	}
	if (v->has_first) {
		hash_expected(v, v->pos);
		sha256_update(&v->hash, chunk, n);
		v->hashed = v->pos + n;
	}
	v->pos += n;
}

static void attr_update(verifier *v, const uint8_t *chunk, size_t n)
{
	uint64_t left = v->total > v->pos ? v->total - v->pos : 0;
	size_t in_range = left < n ? (size_t)left : n;
	uint8_t *exp = scratch(v, in_range ? in_range : 1);
	if (in_range)
		fill_expected(exp, in_range, &v->spec, v->pos);
	size_t i = 0;
	while (i < in_range) {
		uint64_t file_off = v->spec.offset + v->pos + i;
		uint64_t b = file_off / v->block;
		size_t k = (b + 1) * v->block - file_off < in_range - i ? (size_t)((b + 1) * v->block - file_off) : in_range - i;
		if (!memcmp(chunk + i, exp + i, k)) {
			v->masks[b] |= 1;
		} else {
			uint32_t mask = v->masks[b];
			for (size_t q = 0; q < k; q++) {
				int g = zc_gen_of[chunk[i + q] ^ exp[i + q]];
				if (g >= 0) {
					mask |= 1u << g;
					continue;
				}
				v->foreign++;
				if (v->nsamples < 8) {
					mismatch *m = &v->samples[v->nsamples++];
					memset(m, 0, sizeof(*m));
					m->offset = file_off + q;
					hex16(exp + i, k, q, m->expected);
					hex16(chunk + i, k, q, m->found);
				}
			}
			v->masks[b] = mask;
		}
		i += k;
	}
	if (n > in_range) {
		v->foreign += n - in_range;
		if (v->nsamples < 8) {
			mismatch *m = &v->samples[v->nsamples++];
			memset(m, 0, sizeof(*m));
			m->offset = v->spec.offset + v->total;
			m->end_of_stream = true;
			hex16(chunk, n, in_range, m->found);
		}
	}
	v->pos += n;
}

static void put_masks(sb *out, const uint32_t *m, size_t n)
{
	/* Little-endian u32s whatever the host's byte order (sparc64 is big-endian). */
	uint8_t *b = malloc(n * 4 + 1);
	if (!b)
		abort();
	for (size_t i = 0; i < n; i++) {
		b[4 * i] = (uint8_t)m[i];
		b[4 * i + 1] = (uint8_t)(m[i] >> 8);
		b[4 * i + 2] = (uint8_t)(m[i] >> 16);
		b[4 * i + 3] = (uint8_t)(m[i] >> 24);
	}
	sb_b64(out, b, n * 4);
	free(b);
}

static void put_verifier(sb *out, verifier *v)
{
	if (!v->block) {
		hash_expected(v, v->pos < v->total ? v->pos : v->total);
		char hex[65];
		sha256_hex(&v->hash, hex);
		sb_key(out, "exact");
		sb_open(out, '{');
		sb_kint(out, "bytes", (long long)v->pos);
		sb_kint(out, "expected", (long long)v->total);
		sb_kstr(out, "sha256", hex);
		sb_kint(out, "wrongBytes", (long long)v->wrong);
		if (v->has_first) {
			sb_key(out, "mismatch");
			mismatch m = v->first;
			/* A stream longer than expected: the expected side is empty text, as in verify.ts. */
			put_mismatch(out, &m);
		} else if (v->pos < v->total) {
			mismatch m = {.offset = v->pos, .end_of_stream = true};
			sb_key(out, "mismatch");
			put_mismatch(out, &m);
		}
		sb_close(out, '}');
		return;
	}
	sb_key(out, "attribution");
	sb_open(out, '{');
	sb_kint(out, "bytes", (long long)v->pos);
	sb_kint(out, "expected", (long long)v->total);
	sb_kint(out, "blockSize", (long long)v->block);
	sb_key(out, "masks");
	put_masks(out, v->masks, v->nmasks);
	sb_kint(out, "foreign", (long long)v->foreign);
	sb_key(out, "firstForeign");
	sb_open(out, '[');
	for (int i = 0; i < v->nsamples; i++) {
		sb_sep(out);
		put_mismatch(out, &v->samples[i]);
	}
	sb_close(out, ']');
	sb_close(out, '}');
}

static long long proc_status_bytes(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long long kb = -1;
	size_t fl = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, fl) && line[fl] == ':') {
			sscanf(line + fl + 1, "%lld", &kb);
			break;
		}
	if (f)
		fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

typedef struct stream_rx {
	int lfd, cfd;
	verifier v;
	pthread_t thread;
	volatile int stop;
	volatile int done;
	bool eof, accepted;
	int64_t first_ns, last_ns;
	char failure[512];
	long long rss_start;
} stream_rx;

static void *stream_thread(void *arg)
{
	stream_rx *r = arg;
	while (!r->stop && r->cfd < 0) {
		wait_fd(r->lfd, POLLIN, 50);
		if (!r->stop)
			r->cfd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	}
	close(r->lfd);
	r->lfd = -1;
	if (r->cfd >= 0) {
		r->accepted = true;
		uint8_t *buf = malloc(1 << 20);
		if (!buf)
			abort();
		while (!r->stop) {
			ssize_t n = recv(r->cfd, buf, 1 << 20, MSG_DONTWAIT);
			if (n > 0) {
				int64_t now = mono_ns();
				if (!r->first_ns)
					r->first_ns = now;
				r->last_ns = now;
				if (r->v.block)
					attr_update(&r->v, buf, (size_t)n);
				else
					exact_update(&r->v, buf, (size_t)n);
				continue;
			}
			if (n == 0) {
				r->eof = true;
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				err e = {0};
				fail_sys(&e, "recv()", "TCP connection", errno);
				snprintf(r->failure, sizeof(r->failure), "%s", e.msg);
				break;
			}
			wait_fd(r->cfd, POLLIN, 50);
		}
		free(buf);
		close(r->cfd);
		r->cfd = -1;
	}
	r->done = 1;
	return NULL;
}

static void verifier_free(verifier *v)
{
	free(v->scratch);
	free(v->masks);
	layout_free(&v->spec.file);
}

static void stream_close(void *obj)
{
	stream_rx *r = obj;
	r->stop = 1;
	pthread_join(r->thread, NULL);
	verifier_free(&r->v);
	free(r);
}

static int spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int r = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return r;
}

static int act_recv_start(const jv *p, sb *out, err *e)
{
	int family;
	const char *addr;
	double port;
	if (get_family(e, "zc.recvStart", p, &family) < 0 || need_str(e, "zc.recvStart", p, "addr", &addr) < 0 ||
	    need_num(e, "zc.recvStart", p, "port", &port) < 0)
		return -1;
	stream_rx *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->cfd = -1;
	if (parse_spec(e, "zc.recvStart", jget(p, "spec"), &r->v.spec) < 0) {
		free(r);
		return -1;
	}
	r->v.total = r->v.spec.count * r->v.spec.repeat;
	sha256_init(&r->v.hash);
	double bs = opt_num(p, "blockSize", 0);
	if (bs > 0) {
		if (r->v.spec.repeat != 1) {
			fail(e, "INTERNAL", "BlockAttributor: expected a stream sent once, found repeat %llu", (unsigned long long)r->v.spec.repeat);
			verifier_free(&r->v);
			free(r);
			return -1;
		}
		r->v.block = (uint64_t)bs;
		r->v.nmasks = (size_t)((r->v.spec.file.size + r->v.block - 1) / r->v.block);
		r->v.masks = calloc(r->v.nmasks + 1, sizeof(uint32_t));
		if (!r->v.masks)
			abort();
	}
	char what[32];
	snprintf(what, sizeof(what), "TCP/IPv%d listener", family);
	r->lfd = tcp_listen(e, family, addr, (int)port, what);
	if (r->lfd < 0) {
		verifier_free(&r->v);
		free(r);
		return -1;
	}
	r->rss_start = -1;
	if (opt_bool(p, "trackMemory", false)) {
		/* Writing 5 to clear_refs resets VmHWM to the current RSS: the next peak is the receiver's. */
		int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && write(fd, "5", 1) == 1)
			r->rss_start = proc_status_bytes("VmRSS");
		if (fd >= 0)
			close(fd);
	}
	if (spawn(&r->thread, stream_thread, r) != 0) {
		close(r->lfd);
		verifier_free(&r->v);
		free(r);
		return fail(e, "AGENT", "zc.recvStart: could not start the receiver thread");
	}
	char id[40];
	res_add("zc-recv", "zc-recv", r, stream_close, id);
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_close(out, '}');
	return 0;
}

static int act_recv_stop(const jv *p, sb *out, err *e)
{
	const char *id;
	if (need_str(e, "zc.recvStop", p, "id", &id) < 0)
		return -1;
	stream_rx *r = res_take(e, "zc.recvStop", id, "zc-recv", "a zc receiver");
	if (!r)
		return -1;
	int64_t deadline = now_ms() + (int64_t)opt_num(p, "timeoutMs", 30000);
	while (!r->done && now_ms() < deadline)
		sleep_ms(5);
	r->stop = 1;
	pthread_join(r->thread, NULL);
	int64_t dur = r->last_ns > r->first_ns ? r->last_ns - r->first_ns : 0;
	sb_open(out, '{');
	sb_kbool(out, "eof", r->eof);
	sb_kbool(out, "accepted", r->accepted);
	sb_kint(out, "durationNs", dur);
	put_verifier(out, &r->v);
	if (dur > 0)
		sb_kint(out, "throughputBps", (long long)((double)r->v.pos * 1e9 / (double)dur + 0.5));
	if (r->rss_start >= 0) {
		sb_kint(out, "peakRssBytes", proc_status_bytes("VmHWM"));
		sb_kint(out, "rssStartBytes", r->rss_start);
	}
	if (r->failure[0])
		sb_kstr(out, "error", r->failure);
	sb_close(out, '}');
	verifier_free(&r->v);
	free(r);
	return 0;
}

/* ---------------- datagram receiver ---------------- */

#define LOOKAHEAD 64

typedef struct dgram_rx {
	int fd;
	zc_layout layout;
	uint64_t datagram, count, next;
	long long received, matched, lost, wrong, bytes;
	bool has_mismatch;
	mismatch mm;
	uint8_t *exp;
	pthread_t thread;
	pthread_mutex_t lock;
	volatile int stop;
	err failure;
} dgram_rx;

static size_t expected_dgram(dgram_rx *r, uint64_t k)
{
	uint64_t start = k * r->datagram;
	size_t n = (size_t)(r->layout.size - start < r->datagram ? r->layout.size - start : r->datagram);
	fill_file(r->exp, n, &r->layout, start);
	return n;
}

/* Each arrival must equal one of the next datagrams not seen yet: UDP may lose, never alter. */
static void dgram_push(dgram_rx *r, const uint8_t *p, size_t n)
{
	r->received++;
	r->bytes += (long long)n;
	uint64_t lim = r->next + LOOKAHEAD < r->count ? r->next + LOOKAHEAD : r->count;
	for (uint64_t k = r->next; k < lim; k++) {
		size_t en = expected_dgram(r, k);
		if (en != n || memcmp(r->exp, p, n))
			continue;
		r->lost += (long long)(k - r->next);
		r->matched++;
		r->next = k + 1;
		return;
	}
	r->wrong++;
	if (!r->has_mismatch) {
		size_t en = r->next < r->count ? expected_dgram(r, r->next) : 0;
		size_t at = 0;
		while (at < en && at < n && r->exp[at] == p[at])
			at++;
		r->has_mismatch = true;
		r->mm.offset = r->next * r->datagram + at;
		hex16(r->exp, en, at, r->mm.expected);
		hex16(p, n, at, r->mm.found);
	}
	r->next = r->next + 1 < r->count ? r->next + 1 : r->count;
}

static void *dgram_thread(void *arg)
{
	dgram_rx *r = arg;
	uint8_t *buf = malloc(65536);
	if (!buf)
		abort();
	while (!r->stop) {
		ssize_t n = recv(r->fd, buf, 65536, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				fail_sys(&r->failure, "recvmsg()", "UDP socket", errno);
				break;
			}
			wait_fd(r->fd, POLLIN, 50);
			continue;
		}
		pthread_mutex_lock(&r->lock);
		dgram_push(r, buf, (size_t)n);
		pthread_mutex_unlock(&r->lock);
	}
	free(buf);
	return NULL;
}

static void dgram_free(dgram_rx *r)
{
	layout_free(&r->layout);
	free(r->exp);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void dgram_close(void *obj)
{
	dgram_rx *r = obj;
	r->stop = 1;
	pthread_join(r->thread, NULL);
	close(r->fd);
	dgram_free(r);
}

static int act_udp_recv_start(const jv *p, sb *out, err *e)
{
	int family;
	const char *addr;
	double port, datagram;
	if (get_family(e, "zc.udpRecvStart", p, &family) < 0 || need_str(e, "zc.udpRecvStart", p, "addr", &addr) < 0 ||
	    need_num(e, "zc.udpRecvStart", p, "port", &port) < 0 || need_num(e, "zc.udpRecvStart", p, "datagram", &datagram) < 0)
		return -1;
	if (datagram < 1)
		return fail(e, "USAGE", "zc.udpRecvStart: expected a datagram size ≥ 1, found %g", datagram);
	dgram_rx *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	pthread_mutex_init(&r->lock, NULL);
	if (parse_layout(e, "zc.udpRecvStart", jget(p, "layout"), &r->layout) < 0) {
		dgram_free(r);
		return -1;
	}
	r->datagram = (uint64_t)datagram;
	r->count = (r->layout.size + r->datagram - 1) / r->datagram;
	r->exp = malloc(r->datagram + 1);
	if (!r->exp)
		abort();
	char what[32];
	snprintf(what, sizeof(what), "UDP/IPv%d socket", family);
	struct sockaddr_storage ss;
	unsigned slen;
	r->fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (r->fd < 0) {
		fail_sys(e, family == 4 ? "socket(AF_INET, SOCK_DGRAM)" : "socket(AF_INET6, SOCK_DGRAM)", what, errno);
		dgram_free(r);
		return -1;
	}
	if (inet_sockaddr(e, family, addr, (int)port, &ss, &slen) < 0)
		goto bad;
	if (bind(r->fd, (struct sockaddr *)&ss, slen) < 0) {
		char call[160];
		snprintf(call, sizeof(call), "bind(%s port %d)", addr, (int)port);
		fail_sys(e, call, NULL, errno);
		goto bad;
	}
	int rcv = 8 << 20;
	/* Without CAP_NET_ADMIN the capped SO_RCVBUF is the best there is. */
	if (setsockopt(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0) {
		if (errno != EPERM) {
			fail_sys(e, "setsockopt(SO_RCVBUFFORCE)", what, errno);
			goto bad;
		}
		setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	}
	if (spawn(&r->thread, dgram_thread, r) != 0) {
		fail(e, "AGENT", "zc.udpRecvStart: could not start the receiver thread");
		goto bad;
	}
	char id[40];
	res_add("zc-udp", "zc-udp", r, dgram_close, id);
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_close(out, '}');
	return 0;
bad:
	close(r->fd);
	dgram_free(r);
	return -1;
}

static int act_udp_recv_stop(const jv *p, sb *out, err *e)
{
	const char *id;
	double expect;
	if (need_str(e, "zc.udpRecvStop", p, "id", &id) < 0 || need_num(e, "zc.udpRecvStop", p, "expect", &expect) < 0)
		return -1;
	dgram_rx *r = res_take(e, "zc.udpRecvStop", id, "zc-udp", "a zc UDP receiver");
	if (!r)
		return -1;
	int64_t deadline = now_ms() + (int64_t)opt_num(p, "timeoutMs", 15000);
	for (;;) {
		pthread_mutex_lock(&r->lock);
		long long got = r->received;
		pthread_mutex_unlock(&r->lock);
		if ((double)got >= expect || now_ms() >= deadline || r->failure.set)
			break;
		sleep_ms(10);
	}
	r->stop = 1;
	pthread_join(r->thread, NULL);
	close(r->fd);
	if (r->failure.set) {
		fail(e, "AGENT", "zc.udpRecvStop: the receiver failed: %s", r->failure.msg);
		dgram_free(r);
		return -1;
	}
	sb_open(out, '{');
	sb_kint(out, "received", r->received);
	sb_kint(out, "matched", r->matched);
	/* Datagrams never seen after the last arrival count as lost. */
	sb_kint(out, "lost", r->lost + (long long)(r->count - r->next));
	sb_kint(out, "wrong", r->wrong);
	sb_kint(out, "bytes", r->bytes);
	if (r->has_mismatch) {
		sb_key(out, "mismatch");
		put_mismatch(out, &r->mm);
	}
	sb_close(out, '}');
	dgram_free(r);
	return 0;
}

/* ---------------- senders ---------------- */

typedef struct conn_params {
	int family;
	const char *src, *dst;
	int dport;
	int stall_ms;
} conn_params;

static int get_conn(err *e, const char *action, const jv *p, conn_params *c)
{
	double dport;
	if (get_family(e, action, p, &c->family) < 0 || need_str(e, action, p, "dst", &c->dst) < 0 || need_num(e, action, p, "dport", &dport) < 0)
		return -1;
	c->src = opt_str(p, "src");
	c->dport = (int)dport;
	c->stall_ms = (int)opt_num(p, "stallMs", STALL_MS);
	return 0;
}

static const char *tcp_what(int family)
{
	return family == 4 ? "TCP/IPv4 socket" : "TCP/IPv6 socket";
}

/* One sendfile(); 1 sent (step in *sent, *pos moved), 0 no room (EAGAIN), -1 error. */
static int sendfile_once(err *e, int sock, int fd, uint64_t *pos, size_t count, size_t *sent, const char *what)
{
	off_t off = (off_t)*pos;
	ssize_t n = sendfile(sock, fd, &off, count);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		char call[128];
		snprintf(call, sizeof(call), "sendfile(in fd %d, offset %llu, count %zu)", fd, (unsigned long long)*pos, count);
		return fail_sys(e, call, what, errno);
	}
	*sent = (size_t)n;
	*pos = (uint64_t)off;
	return 1;
}

/* Sends `count` bytes from `offset`, waiting for room; stops at end of file; EAGAIN after stall_ms without progress. */
static int sendfile_all(err *e, int sock, int fd, uint64_t offset, uint64_t count, int stall_ms, uint64_t *sent_out, long long *calls_out,
			const char *what)
{
	uint64_t sent = 0, pos = offset;
	int64_t last = now_ms();
	while (sent < count) {
		size_t step = 0;
		size_t want = count - sent < (4u << 20) ? (size_t)(count - sent) : (4u << 20);
		int r = sendfile_once(e, sock, fd, &pos, want, &step, what);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (now_ms() - last >= stall_ms) {
				char w[200];
				snprintf(w, sizeof(w), "%s (no room for %d ms after %llu of %llu bytes)", what, stall_ms, (unsigned long long)sent,
					 (unsigned long long)count);
				return fail_sys(e, "sendfile()", w, EAGAIN);
			}
			wait_fd(sock, POLLOUT, stall_ms);
			continue;
		}
		if (step == 0)
			break;
		sent += step;
		*sent_out += step;
		(*calls_out)++;
		last = now_ms();
	}
	return 0;
}

static int open_connected(err *e, const conn_params *c)
{
	int fd = tcp_open(e, c->family, c->src, 0, true, tcp_what(c->family));
	if (fd < 0)
		return -1;
	if (tcp_connect(e, fd, c->family, c->dst, c->dport, 5000, tcp_what(c->family)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int act_sendfile(const jv *p, sb *out, err *e)
{
	conn_params c;
	const char *fid;
	double offset, count;
	if (get_conn(e, "zc.sendfile", p, &c) < 0 || need_str(e, "zc.sendfile", p, "fileId", &fid) < 0 ||
	    need_num(e, "zc.sendfile", p, "offset", &offset) < 0 || need_num(e, "zc.sendfile", p, "count", &count) < 0)
		return -1;
	zc_file *f = res_peek(e, "zc.sendfile", fid, "zc-file", "a zc file");
	if (!f)
		return -1;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_sys(e, "open()", f->path, errno);
	uint64_t sent = 0;
	long long calls = 0;
	int64_t t0 = mono_ns();
	int repeat = (int)opt_num(p, "repeat", 1);
	int sock = open_connected(e, &c);
	int rc = sock < 0 ? -1 : 0;
	for (int r = 0; rc == 0 && r < repeat; r++) {
		uint64_t before = sent;
		rc = sendfile_all(e, sock, fd, (uint64_t)offset, (uint64_t)count, c.stall_ms, &sent, &calls, tcp_what(c.family));
		if (rc == 0 && sent - before < (uint64_t)count)
			break;
	}
	tcp_facts tcp = {0};
	if (rc == 0) {
		tcp_close_acked_info(sock, CLOSE_WAIT_MS, &tcp);
		sock = -1;
	}
	if (sock >= 0) {
		tcp_info_read(sock, &tcp);
		close(sock);
	}
	close(fd);
	if (rc < 0 && !device_errno(e))
		return -1;
	sb_open(out, '{');
	sb_kint(out, "sent", (long long)sent);
	sb_kint(out, "calls", calls);
	sb_kint(out, "elapsedNs", mono_ns() - t0);
	tcp_info_put(out, &tcp);
	if (rc < 0) {
		sb_kstr(out, "failure", e->msg);
		memset(e, 0, sizeof(*e));
	}
	sb_close(out, '}');
	return 0;
}

/* MSG_ZEROCOPY on one socket: the calls made and the completions read from the error queue. */
typedef struct zsender {
	int fd;
	long long calls, done;
	struct {
		uint32_t lo, hi;
		bool copied;
	} *comp;
	size_t ncomp, cap;
} zsender;

static int zs_init(err *e, zsender *z, int fd, const char *what)
{
	memset(z, 0, sizeof(*z));
	z->fd = fd;
	return set_int(e, fd, SOL_SOCKET, SO_ZEROCOPY, 1, "SO_ZEROCOPY", what);
}

static void zs_read(zsender *z)
{
	for (;;) {
		char control[128];
		char data[1];
		struct iovec iov = {data, sizeof(data)};
		struct msghdr m = {0};
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = control;
		m.msg_controllen = sizeof(control);
		if (recvmsg(z->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) || (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno != 0)
				continue;
			if (z->ncomp == z->cap) {
				z->cap = z->cap ? z->cap * 2 : 64;
				z->comp = realloc(z->comp, z->cap * sizeof(*z->comp));
				if (!z->comp)
					abort();
			}
			z->comp[z->ncomp].lo = ee.ee_info;
			z->comp[z->ncomp].hi = ee.ee_data;
			z->comp[z->ncomp].copied = (ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED) != 0;
			z->ncomp++;
			z->done += (long long)ee.ee_data - (long long)ee.ee_info + 1;
		}
	}
}

/* One send(MSG_ZEROCOPY): bytes taken, 0 when no room (EAGAIN/ENOBUFS), -1 on error. */
static long long zs_send(err *e, zsender *z, const uint8_t *p, size_t n, const char *what)
{
	ssize_t k = send(z->fd, p, n, MSG_ZEROCOPY | MSG_DONTWAIT | MSG_NOSIGNAL);
	if (k < 0) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
			return 0;
		return fail_sys(e, "send(MSG_ZEROCOPY)", what, errno);
	}
	z->calls++;
	return k == 0 ? 0 : (long long)k;
}

static long long zs_send_all(err *e, zsender *z, const uint8_t *p, size_t n, int stall_ms, const char *what)
{
	size_t off = 0;
	int64_t last = now_ms();
	while (off < n) {
		long long k = zs_send(e, z, p + off, n - off, what);
		if (k < 0)
			return -1;
		if (k > 0) {
			off += (size_t)k;
			last = now_ms();
			continue;
		}
		zs_read(z);
		if (now_ms() - last >= stall_ms) {
			char w[200];
			snprintf(w, sizeof(w), "%s (no room for %d ms after %zu of %zu bytes)", what, stall_ms, off, n);
			return fail_sys(e, "send(MSG_ZEROCOPY)", w, EAGAIN);
		}
		wait_fd(z->fd, POLLOUT, stall_ms < 50 ? stall_ms : 50);
	}
	return (long long)off;
}

static bool zs_wait_all(zsender *z, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		zs_read(z);
		if (z->calls - z->done <= 0)
			return true;
		if (now_ms() >= deadline)
			return false;
		/* An error-queue entry wakes poll() with POLLERR whatever events are asked. */
		wait_fd(z->fd, 0, deadline - now_ms() < 50 ? (int)(deadline - now_ms()) : 50);
	}
}

static void put_completions(sb *out, const zsender *z)
{
	sb_key(out, "completions");
	sb_open(out, '[');
	for (size_t i = 0; z && i < z->ncomp; i++) {
		sb_sep(out);
		sb_printf(out, "{\"lo\":%u,\"hi\":%u,\"copied\":%s}", z->comp[i].lo, z->comp[i].hi, z->comp[i].copied ? "true" : "false");
	}
	sb_close(out, ']');
}

static int act_zerocopy_send(const jv *p, sb *out, err *e)
{
	conn_params c;
	const char *proto;
	double seed, size;
	if (get_conn(e, "zc.zerocopySend", p, &c) < 0 || need_str(e, "zc.zerocopySend", p, "proto", &proto) < 0 ||
	    need_num(e, "zc.zerocopySend", p, "seed", &seed) < 0 || need_num(e, "zc.zerocopySend", p, "size", &size) < 0)
		return -1;
	jv *lengths = jget(p, "lengths");
	if (!lengths || lengths->t != J_ARR)
		return fail(e, "USAGE", "zc.zerocopySend: expected an array \"lengths\" in the parameters");
	bool tcp = !strcmp(proto, "tcp");
	int wait_ms = (int)opt_num(p, "completionWaitMs", COMPLETION_WAIT_MS);
	size_t n = (size_t)size;
	uint8_t *mem = map_mem(n);
	zc_layout l = {(uint32_t)(long long)seed, n, 0, NULL};
	fill_file(mem, n, &l, 0);
	char what[32];
	snprintf(what, sizeof(what), "%s/IPv%d socket", tcp ? "TCP" : "UDP", c.family);
	int fd;
	if (tcp) {
		fd = tcp_open(e, c.family, c.src, 0, true, what);
	} else {
		fd = socket(c.family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
		if (fd < 0)
			fail_sys(e, "socket(SOCK_DGRAM)", what, errno);
	}
	if (fd < 0) {
		unmap_mem(mem, n);
		return -1;
	}
	zsender z = {0};
	tcp_facts tcpf = {0};
	bool have_z = false;
	long long bytes = 0;
	int rc = 0;
	const char *unsupported = NULL;
	char unsup[512];
	if (tcp) {
		rc = tcp_connect(e, fd, c.family, c.dst, c.dport, 5000, what);
	} else {
		struct sockaddr_storage ss;
		unsigned slen;
		rc = inet_sockaddr(e, c.family, c.dst, c.dport, &ss, &slen);
		if (rc == 0 && connect(fd, (struct sockaddr *)&ss, slen) < 0) {
			char call[160];
			snprintf(call, sizeof(call), "connect(%s port %d)", c.dst, c.dport);
			rc = fail_sys(e, call, what, errno);
		}
	}
	if (rc == 0) {
		if (zs_init(e, &z, fd, what) < 0) {
			if (e->errnum == EOPNOTSUPP || e->errnum == ENOPROTOOPT) {
				snprintf(unsup, sizeof(unsup), "%s", e->msg);
				unsupported = unsup;
				memset(e, 0, sizeof(*e));
			} else {
				rc = -1;
			}
		} else {
			have_z = true;
		}
	}
	bool failed = false;
	if (rc == 0 && have_z) {
		for (size_t i = 0; i < lengths->len && rc == 0; i++) {
			size_t len = (size_t)lengths->items[i]->n;
			if ((size_t)bytes + len > n)
				len = n - (size_t)bytes;
			long long k = zs_send_all(e, &z, mem + bytes, len, c.stall_ms, what);
			if (k < 0) {
				rc = -1;
				break;
			}
			bytes += k;
			/* UDP: no more than 64 sends wait for completion. */
			if (!tcp && z.calls - z.done >= 64)
				zs_wait_all(&z, wait_ms);
		}
		if (rc == 0) {
			zs_wait_all(&z, wait_ms);
			if (tcp) {
				tcp_close_acked_info(fd, CLOSE_WAIT_MS, &tcpf);
				fd = -1;
			}
		} else {
			zs_read(&z);
			failed = true;
		}
	}
	if (fd >= 0) {
		if (tcp)
			tcp_info_read(fd, &tcpf);
		close(fd);
	}
	/* Pages still pinned by an uncompleted send stay the kernel's; unmapping ours cannot corrupt them. */
	unmap_mem(mem, n);
	if (rc < 0 && !(failed && device_errno(e))) {
		free(z.comp);
		return -1;
	}
	sb_open(out, '{');
	sb_kint(out, "calls", z.calls);
	sb_kint(out, "bytes", bytes);
	put_completions(out, have_z ? &z : NULL);
	tcp_info_put(out, &tcpf);
	if (unsupported)
		sb_kstr(out, "unsupported", unsupported);
	if (failed) {
		sb_kstr(out, "failure", e->msg);
		memset(e, 0, sizeof(*e));
	}
	sb_close(out, '}');
	free(z.comp);
	return 0;
}

/* ---------------- mutation ---------------- */

#define MAX_WRITES_PER_BLOCK 2

typedef struct write_log {
	uint64_t size, block;
	size_t blocks;
	uint32_t *written;
	uint8_t *poisoned, *counts;
	int code;
	long long writes;
} write_log;

static void log_init(write_log *l, uint64_t size, uint64_t block)
{
	memset(l, 0, sizeof(*l));
	l->size = size;
	l->block = block;
	l->blocks = (size_t)((size + block - 1) / block);
	l->written = calloc(l->blocks + 1, sizeof(uint32_t));
	l->poisoned = calloc(l->blocks + 1, 1);
	l->counts = calloc(l->blocks + 1, 1);
	if (!l->written || !l->poisoned || !l->counts)
		abort();
}

static void log_free(write_log *l)
{
	free(l->written);
	free(l->poisoned);
	free(l->counts);
}

static bool log_room(const write_log *l, size_t b)
{
	return l->counts[b] < MAX_WRITES_PER_BLOCK && !l->poisoned[b];
}

/* Plans the writes after a send took [from, to): each whole block there is written with probability p, then p². */
typedef struct planned {
	size_t block;
	int code;
} planned;

static size_t plan_writes(rng *r, write_log *l, uint64_t from, uint64_t to, planned **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	double rounds[2] = {0.5, 0.25};
	for (int k = 0; k < 2; k++) {
		for (uint64_t b = (from + l->block - 1) / l->block; b * l->block < to; b++) {
			uint64_t end = (b + 1) * l->block < l->size ? (b + 1) * l->block : l->size;
			if (end > to)
				continue;
			if (!log_room(l, (size_t)b) || !rng_bool(r, rounds[k]))
				continue;
			l->code = l->code % (ZC_POISON - 1) + 1;
			l->written[b] |= 1u << l->code;
			l->counts[b]++;
			l->writes++;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = realloc(*out, cap * sizeof(planned));
				if (!*out)
					abort();
			}
			(*out)[n++] = (planned){(size_t)b, l->code};
		}
	}
	return n;
}

static void put_report_tail(sb *out, const write_log *l)
{
	sb_kint(out, "writes", l->writes);
	sb_key(out, "written");
	put_masks(out, l->written, l->blocks);
	sb_key(out, "poisoned");
	sb_b64(out, l->poisoned, l->blocks);
}

typedef struct flow_params {
	conn_params c;
	uint32_t seed;
	uint64_t size, block;
	double rng_seed;
	int neighbour_dport;
} flow_params;

static int get_flow(err *e, const char *action, const jv *p, flow_params *f)
{
	double seed, size, block, rs, nd;
	if (get_conn(e, action, p, &f->c) < 0 || need_num(e, action, p, "seed", &seed) < 0 || need_num(e, action, p, "size", &size) < 0 ||
	    need_num(e, action, p, "blockSize", &block) < 0 || need_num(e, action, p, "rngSeed", &rs) < 0 ||
	    need_num(e, action, p, "neighbourDport", &nd) < 0)
		return -1;
	if (block < 1)
		return fail(e, "USAGE", "%s: expected a blockSize ≥ 1, found %g", action, block);
	f->seed = (uint32_t)(long long)seed;
	f->size = (uint64_t)size;
	f->block = (uint64_t)block;
	f->rng_seed = rs;
	f->neighbour_dport = (int)nd;
	return 0;
}

/* The untouched neighbour flow, run on its own thread meanwhile. */
typedef struct neighbour {
	conn_params c;
	pthread_t thread;
	/* sendfile */
	int file_fd;
	uint64_t file_size;
	/* MSG_ZEROCOPY */
	uint8_t *mem;
	size_t mem_size, chunk;
	int wait_ms;
	uint64_t sent;
	/* The socket's TCP_INFO once its FIN was acknowledged. */
	tcp_facts tcp;
	err e;
} neighbour;

static void *neighbour_sendfile(void *arg)
{
	neighbour *nb = arg;
	int sock = open_connected(&nb->e, &nb->c);
	if (sock < 0)
		return NULL;
	long long calls = 0;
	if (sendfile_all(&nb->e, sock, nb->file_fd, 0, nb->file_size, nb->c.stall_ms, &nb->sent, &calls, tcp_what(nb->c.family)) == 0)
		tcp_close_acked_info(sock, CLOSE_WAIT_MS, &nb->tcp);
	else
		close(sock);
	return NULL;
}

static void *neighbour_zerocopy(void *arg)
{
	neighbour *nb = arg;
	int sock = open_connected(&nb->e, &nb->c);
	if (sock < 0)
		return NULL;
	zsender z;
	int rc = zs_init(&nb->e, &z, sock, tcp_what(nb->c.family));
	for (size_t off = 0; rc == 0 && off < nb->mem_size; off += nb->chunk) {
		size_t n = nb->mem_size - off < nb->chunk ? nb->mem_size - off : nb->chunk;
		long long k = zs_send_all(&nb->e, &z, nb->mem + off, n, nb->c.stall_ms, tcp_what(nb->c.family));
		if (k < 0)
			rc = -1;
		else
			nb->sent += (uint64_t)k;
	}
	if (rc == 0) {
		zs_wait_all(&z, nb->wait_ms);
		tcp_close_acked_info(sock, CLOSE_WAIT_MS, &nb->tcp);
	} else {
		close(sock);
	}
	free(z.comp);
	return NULL;
}

/* A flow's end: a device-side failure becomes text in the report; anything else fails the action. */
static int flow_outcome(err *flow_err, char *text, size_t tlen, err *e)
{
	if (!flow_err->set)
		return 0;
	if (device_errno(flow_err)) {
		snprintf(text, tlen, "%s", flow_err->msg);
		return 0;
	}
	if (!e->set)
		*e = *flow_err;
	return -1;
}

static int act_sendfile_mutate(const jv *p, sb *out, err *e)
{
	flow_params f;
	const char *fid, *nid;
	if (get_flow(e, "zc.sendfileMutate", p, &f) < 0 || need_str(e, "zc.sendfileMutate", p, "fileId", &fid) < 0 ||
	    need_str(e, "zc.sendfileMutate", p, "neighbourFileId", &nid) < 0)
		return -1;
	zc_file *file = res_peek(e, "zc.sendfileMutate", fid, "zc-file", "a zc file");
	zc_file *other = file ? res_peek(e, "zc.sendfileMutate", nid, "zc-file", "a zc file") : NULL;
	if (!file || !other)
		return -1;
	int fd = open(file->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail_sys(e, "open()", file->path, errno);
	tcp_facts tcp = {0};
	neighbour nb = {0};
	nb.c = f.c;
	nb.c.dport = f.neighbour_dport;
	nb.file_fd = open(other->path, O_RDONLY | O_CLOEXEC);
	nb.file_size = other->layout.size;
	if (nb.file_fd < 0) {
		close(fd);
		return fail_sys(e, "open()", other->path, errno);
	}
	write_log l;
	log_init(&l, f.size, f.block);
	rng r;
	rng_init(&r, f.rng_seed);
	uint8_t *scratch_buf = malloc(f.block);
	if (!scratch_buf)
		abort();
	bool nb_started = spawn(&nb.thread, neighbour_sendfile, &nb) == 0;
	if (!nb_started)
		fail(&nb.e, "AGENT", "zc.sendfileMutate: could not start the neighbour flow");
	err me = {0};
	uint64_t sent = 0;
	long long calls = 0;
	const char *what = tcp_what(f.c.family);
	int sock = open_connected(&me, &f.c);
	if (sock >= 0) {
		int64_t idle = now_ms();
		int rc = 0;
		while (sent < f.size) {
			uint64_t pos = sent;
			size_t step = 0;
			size_t want = f.size - sent < (1u << 20) ? (size_t)(f.size - sent) : (1u << 20);
			rc = sendfile_once(&me, sock, fd, &pos, want, &step, what);
			if (rc < 0)
				break;
			if (rc == 0) {
				if (now_ms() - idle >= f.c.stall_ms) {
					char w[200];
					snprintf(w, sizeof(w), "%s (no room for %d ms after %llu of %llu bytes)", what, f.c.stall_ms,
						 (unsigned long long)sent, (unsigned long long)f.size);
					rc = fail_sys(&me, "sendfile()", w, EAGAIN);
					break;
				}
				wait_fd(sock, POLLOUT, 50);
				continue;
			}
			if (step == 0)
				break;
			uint64_t from = sent;
			sent = pos;
			calls++;
			idle = now_ms();
			/* The range is queued on the socket, not yet received: rewrite some of its page-cache blocks. */
			planned *plan;
			size_t np = plan_writes(&r, &l, from, sent, &plan);
			for (size_t i = 0; i < np; i++) {
				uint64_t a = plan[i].block * f.block, b = a + f.block < f.size ? a + f.block : f.size;
				fill_generation(scratch_buf, (size_t)(b - a), f.seed, a, plan[i].code);
				if (pwrite(fd, scratch_buf, (size_t)(b - a), (off_t)a) < 0 && !me.set)
					fail_sys(&me, "pwrite()", file->path, errno);
			}
			free(plan);
			if (me.set) {
				rc = -1;
				break;
			}
		}
		if (rc >= 0)
			tcp_close_acked_info(sock, CLOSE_WAIT_MS, &tcp);
		else
			close(sock);
	}
	if (nb_started)
		pthread_join(nb.thread, NULL);
	close(fd);
	close(nb.file_fd);
	free(scratch_buf);
	char failure[512] = "", nfailure[512] = "";
	int bad = flow_outcome(&me, failure, sizeof(failure), e);
	bad |= flow_outcome(&nb.e, nfailure, sizeof(nfailure), e);
	if (bad) {
		log_free(&l);
		return -1;
	}
	sb_open(out, '{');
	sb_kint(out, "sent", (long long)sent);
	sb_kint(out, "calls", calls);
	put_report_tail(out, &l);
	sb_kint(out, "neighbourSent", (long long)nb.sent);
	if (failure[0])
		sb_kstr(out, "failure", failure);
	if (nfailure[0])
		sb_kstr(out, "neighbourFailure", nfailure);
	tcp_info_put(out, &tcp);
	tcp_info_put_as(out, "neighbourTcp", &nb.tcp);
	sb_close(out, '}');
	log_free(&l);
	return 0;
}

/* Sends numbered 0, 1, …, each up to a byte offset; a block is poisonable once every send touching it completed. */
typedef struct frontier {
	int64_t *ends;
	bool *done;
	size_t n, cap, prefix;
} frontier;

static void fr_grow(frontier *f, size_t need)
{
	if (need <= f->cap)
		return;
	size_t cap = f->cap ? f->cap : 64;
	while (cap < need)
		cap *= 2;
	f->ends = realloc(f->ends, cap * sizeof(int64_t));
	f->done = realloc(f->done, cap * sizeof(bool));
	if (!f->ends || !f->done)
		abort();
	for (size_t i = f->cap; i < cap; i++) {
		f->ends[i] = -1;
		f->done[i] = false;
	}
	f->cap = cap;
}

static void fr_sent(frontier *f, size_t call, uint64_t end)
{
	fr_grow(f, call + 1);
	f->ends[call] = (int64_t)end;
	if (call + 1 > f->n)
		f->n = call + 1;
}

static void fr_complete(frontier *f, uint32_t lo, uint32_t hi)
{
	fr_grow(f, (size_t)hi + 1);
	for (uint64_t c = lo; c <= hi; c++)
		f->done[c] = true;
}

static uint64_t fr_frontier(frontier *f)
{
	while (f->prefix < f->n && f->done[f->prefix] && f->ends[f->prefix] >= 0)
		f->prefix++;
	return f->prefix == 0 ? 0 : (uint64_t)f->ends[f->prefix - 1];
}

typedef struct zmut {
	flow_params f;
	write_log l;
	uint8_t *mem, *scratch;
	zsender z;
	frontier fr;
	size_t seen, poisoned_upto;
} zmut;

static void zm_write(zmut *m, size_t block, int code)
{
	uint64_t a = block * m->f.block, b = a + m->f.block < m->f.size ? a + m->f.block : m->f.size;
	/* Through a scratch block and one copy: each byte changes once, from one generation to the next. */
	fill_generation(m->scratch, (size_t)(b - a), m->f.seed, a, code);
	memcpy(m->mem + a, m->scratch, (size_t)(b - a));
}

/* Blocks whose every send completed take POISON: from now on the kernel must not read them. */
static void zm_poison(zmut *m)
{
	zs_read(&m->z);
	for (; m->seen < m->z.ncomp; m->seen++)
		fr_complete(&m->fr, m->z.comp[m->seen].lo, m->z.comp[m->seen].hi);
	uint64_t end = fr_frontier(&m->fr);
	for (; (m->poisoned_upto + 1) * m->f.block <= end || (m->poisoned_upto < m->l.blocks && end == m->f.size); m->poisoned_upto++) {
		zm_write(m, m->poisoned_upto, ZC_POISON);
		m->l.poisoned[m->poisoned_upto] = 1;
		m->l.writes++;
	}
}

static int act_zerocopy_mutate(const jv *p, sb *out, err *e)
{
	zmut m;
	memset(&m, 0, sizeof(m));
	double chunk, nseed, nsize;
	if (get_flow(e, "zc.zerocopyMutate", p, &m.f) < 0 || need_num(e, "zc.zerocopyMutate", p, "chunk", &chunk) < 0 ||
	    need_num(e, "zc.zerocopyMutate", p, "neighbourSeed", &nseed) < 0 || need_num(e, "zc.zerocopyMutate", p, "neighbourSize", &nsize) < 0)
		return -1;
	if (chunk < 1)
		return fail(e, "USAGE", "zc.zerocopyMutate: expected a chunk ≥ 1, found %g", chunk);
	int wait_ms = (int)opt_num(p, "completionWaitMs", COMPLETION_WAIT_MS);
	log_init(&m.l, m.f.size, m.f.block);
	rng r;
	rng_init(&r, m.f.rng_seed);
	m.scratch = malloc(m.f.block);
	if (!m.scratch)
		abort();
	m.mem = map_mem((size_t)m.f.size);
	zc_layout main_l = {m.f.seed, m.f.size, 0, NULL};
	fill_file(m.mem, (size_t)m.f.size, &main_l, 0);
	tcp_facts tcp = {0};
	neighbour nb = {0};
	nb.c = m.f.c;
	nb.c.dport = m.f.neighbour_dport;
	nb.mem_size = (size_t)nsize;
	nb.mem = map_mem(nb.mem_size);
	nb.chunk = (size_t)chunk;
	nb.wait_ms = wait_ms;
	zc_layout nl = {(uint32_t)(long long)nseed, nb.mem_size, 0, NULL};
	fill_file(nb.mem, nb.mem_size, &nl, 0);
	bool nb_started = spawn(&nb.thread, neighbour_zerocopy, &nb) == 0;
	if (!nb_started)
		fail(&nb.e, "AGENT", "zc.zerocopyMutate: could not start the neighbour flow");
	err me = {0};
	uint64_t sent = 0;
	bool have_z = false;
	const char *what = tcp_what(m.f.c.family);
	int sock = open_connected(&me, &m.f.c);
	if (sock >= 0 && zs_init(&me, &m.z, sock, what) == 0) {
		have_z = true;
		int64_t idle = now_ms();
		int rc = 0;
		while (sent < m.f.size) {
			size_t want = m.f.size - sent < (uint64_t)chunk ? (size_t)(m.f.size - sent) : (size_t)chunk;
			long long k = zs_send(&me, &m.z, m.mem + sent, want, what);
			if (k < 0) {
				rc = -1;
				break;
			}
			if (k == 0) {
				zm_poison(&m);
				if (now_ms() - idle >= m.f.c.stall_ms) {
					char w[200];
					snprintf(w, sizeof(w), "%s (no room for %d ms after %llu of %llu bytes)", what, m.f.c.stall_ms,
						 (unsigned long long)sent, (unsigned long long)m.f.size);
					rc = fail_sys(&me, "send(MSG_ZEROCOPY)", w, EAGAIN);
					break;
				}
				wait_fd(sock, POLLOUT, 20);
				continue;
			}
			fr_sent(&m.fr, (size_t)(m.z.calls - 1), sent + (uint64_t)k);
			uint64_t from = sent;
			sent += (uint64_t)k;
			idle = now_ms();
			/* Sent but not completed: the user's writes here may or may not reach the wire. */
			planned *plan;
			size_t np = plan_writes(&r, &m.l, from, sent, &plan);
			for (size_t i = 0; i < np; i++)
				zm_write(&m, plan[i].block, plan[i].code);
			free(plan);
			zm_poison(&m);
		}
		if (rc == 0) {
			int64_t deadline = now_ms() + wait_ms;
			while (m.z.calls - m.z.done > 0 && now_ms() < deadline) {
				zm_poison(&m);
				wait_fd(sock, 0, 20);
			}
			zm_poison(&m);
			tcp_close_acked_info(sock, CLOSE_WAIT_MS, &tcp);
			sock = -1;
		}
	}
	if (sock >= 0)
		close(sock);
	if (nb_started)
		pthread_join(nb.thread, NULL);
	unmap_mem(m.mem, (size_t)m.f.size);
	unmap_mem(nb.mem, nb.mem_size);
	free(m.scratch);
	free(m.fr.ends);
	free(m.fr.done);
	char failure[512] = "", nfailure[512] = "";
	int bad = flow_outcome(&me, failure, sizeof(failure), e);
	bad |= flow_outcome(&nb.e, nfailure, sizeof(nfailure), e);
	if (!bad) {
		sb_open(out, '{');
		sb_kint(out, "sent", (long long)sent);
		sb_kint(out, "calls", m.z.calls);
		put_report_tail(out, &m.l);
		sb_kint(out, "neighbourSent", (long long)nb.sent);
		put_completions(out, have_z ? &m.z : NULL);
		if (failure[0])
			sb_kstr(out, "failure", failure);
		if (nfailure[0])
			sb_kstr(out, "neighbourFailure", nfailure);
		tcp_info_put(out, &tcp);
		tcp_info_put_as(out, "neighbourTcp", &nb.tcp);
		sb_close(out, '}');
	}
	free(m.z.comp);
	log_free(&m.l);
	return bad ? -1 : 0;
}

const action zc_actions[] = {
	{"zc.probe", act_probe},
	{"zc.fileCreate", act_file_create},
	{"zc.fileRemove", act_file_remove},
	{"zc.recvStart", act_recv_start},
	{"zc.recvStop", act_recv_stop},
	{"zc.udpRecvStart", act_udp_recv_start},
	{"zc.udpRecvStop", act_udp_recv_stop},
	{"zc.sendfile", act_sendfile},
	{"zc.zerocopySend", act_zerocopy_send},
	{"zc.sendfileMutate", act_sendfile_mutate},
	{"zc.zerocopyMutate", act_zerocopy_mutate},
	{NULL, NULL},
};
