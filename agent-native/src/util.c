/* JSON parsing and building, base64, SHA-256, errors, clocks, resources. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fputs("nicmatrix-agent-native: out of memory\n", stderr);
		abort();
	}
	return q;
}

/* ---------------- JSON parser ---------------- */

typedef struct parser {
	const char *p, *end;
	int depth;
} parser;

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static jv *new_jv(int t)
{
	jv *v = calloc(1, sizeof(*v));
	if (!v)
		abort();
	v->t = t;
	return v;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(sb *b, uint32_t cp)
{
	char t[4];
	if (cp < 0x80) {
		t[0] = (char)cp;
		sb_raw(b, t, 1);
	} else if (cp < 0x800) {
		t[0] = (char)(0xc0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3f));
		sb_raw(b, t, 2);
	} else if (cp < 0x10000) {
		t[0] = (char)(0xe0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f));
		sb_raw(b, t, 3);
	} else {
		t[0] = (char)(0xf0 | (cp >> 18));
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[3] = (char)(0x80 | (cp & 0x3f));
		sb_raw(b, t, 4);
	}
}

static int parse_u4(parser *ps, uint32_t *out)
{
	if (ps->end - ps->p < 4)
		return -1;
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(ps->p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | (uint32_t)h;
	}
	ps->p += 4;
	*out = v;
	return 0;
}

static char *parse_string(parser *ps, size_t *len)
{
	sb b = {0};
	ps->p++; /* opening quote */
	while (ps->p < ps->end && *ps->p != '"') {
		const char *run = ps->p;
		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\')
			ps->p++;
		sb_raw(&b, run, (size_t)(ps->p - run));
		if (ps->p < ps->end && *ps->p == '\\') {
			ps->p++;
			if (ps->p >= ps->end)
				goto bad;
			char c = *ps->p++;
			switch (c) {
			case '"': sb_raw(&b, "\"", 1); break;
			case '\\': sb_raw(&b, "\\", 1); break;
			case '/': sb_raw(&b, "/", 1); break;
			case 'b': sb_raw(&b, "\b", 1); break;
			case 'f': sb_raw(&b, "\f", 1); break;
			case 'n': sb_raw(&b, "\n", 1); break;
			case 'r': sb_raw(&b, "\r", 1); break;
			case 't': sb_raw(&b, "\t", 1); break;
			case 'u': {
				uint32_t cp, lo;
				if (parse_u4(ps, &cp))
					goto bad;
				if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
					ps->p += 2;
					if (parse_u4(ps, &lo))
						goto bad;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				put_utf8(&b, cp);
				break;
			}
			default:
				goto bad;
			}
		}
	}
	if (ps->p >= ps->end)
		goto bad;
	ps->p++;
	sb_raw(&b, "", 0);
	*len = b.len;
	if (!b.p)
		b.p = calloc(1, 1);
	return b.p;
bad:
	sb_free(&b);
	return NULL;
}

static jv *parse_value(parser *ps);

static jv *parse_container(parser *ps, bool obj)
{
	jv *v = new_jv(obj ? J_OBJ : J_ARR);
	size_t cap = 0;
	ps->p++;
	if (++ps->depth > 64)
		goto bad;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
		ps->p++;
		ps->depth--;
		return v;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;
		skip_ws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"')
				goto bad;
			key = parse_string(ps, &klen);
			if (!key)
				goto bad;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				goto bad;
			}
			ps->p++;
		}
		jv *item = parse_value(ps);
		if (!item) {
			free(key);
			goto bad;
		}
		if (v->len == cap) {
			cap = cap ? cap * 2 : 8;
			v->items = xrealloc(v->items, cap * sizeof(*v->items));
			if (obj)
				v->keys = xrealloc(v->keys, cap * sizeof(*v->keys));
		}
		v->items[v->len] = item;
		if (obj)
			v->keys[v->len] = key;
		v->len++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
			ps->p++;
			ps->depth--;
			return v;
		}
		goto bad;
	}
bad:
	json_free(v);
	return NULL;
}

static jv *parse_value(parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return NULL;
	char c = *ps->p;
	if (c == '{')
		return parse_container(ps, true);
	if (c == '[')
		return parse_container(ps, false);
	if (c == '"') {
		size_t len;
		char *s = parse_string(ps, &len);
		if (!s)
			return NULL;
		jv *v = new_jv(J_STR);
		v->s = s;
		v->slen = len;
		return v;
	}
	if (ps->end - ps->p >= 4 && !memcmp(ps->p, "true", 4)) {
		ps->p += 4;
		jv *v = new_jv(J_BOOL);
		v->b = true;
		return v;
	}
	if (ps->end - ps->p >= 5 && !memcmp(ps->p, "false", 5)) {
		ps->p += 5;
		return new_jv(J_BOOL);
	}
	if (ps->end - ps->p >= 4 && !memcmp(ps->p, "null", 4)) {
		ps->p += 4;
		return new_jv(J_NULL);
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		char tmp[64];
		size_t n = 0;
		while (ps->p + n < ps->end && n < sizeof(tmp) - 1 && strchr("+-0123456789.eE", ps->p[n]))
			n++;
		memcpy(tmp, ps->p, n);
		tmp[n] = 0;
		char *endp;
		double d = strtod(tmp, &endp);
		if (endp == tmp)
			return NULL;
		ps->p += endp - tmp;
		jv *v = new_jv(J_NUM);
		v->n = d;
		return v;
	}
	return NULL;
}

jv *json_parse(const char *text, size_t len)
{
	parser ps = {text, text + len, 0};
	jv *v = parse_value(&ps);
	if (!v)
		return NULL;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		json_free(v);
		return NULL;
	}
	return v;
}

void json_free(jv *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->len; i++) {
		json_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
	free(v);
}

jv *jget(const jv *obj, const char *key)
{
	if (!obj || obj->t != J_OBJ)
		return NULL;
	/* The last of duplicate keys wins, as in JSON.parse. */
	for (size_t i = obj->len; i-- > 0;)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

bool jhas(const jv *obj, const char *key)
{
	jv *v = jget(obj, key);
	return v && v->t != J_NULL;
}

/* ---------------- builder ---------------- */

void sb_raw(sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void sb_puts(sb *b, const char *s)
{
	sb_raw(b, s, strlen(s));
}

void sb_printf(sb *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		sb_raw(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		abort();
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_raw(b, big, (size_t)n);
	free(big);
}

void sb_jstr(sb *b, const char *s, size_t n)
{
	sb_raw(b, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_raw(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': sb_raw(b, "\\\"", 2); break;
		case '\\': sb_raw(b, "\\\\", 2); break;
		case '\n': sb_raw(b, "\\n", 2); break;
		case '\r': sb_raw(b, "\\r", 2); break;
		case '\t': sb_raw(b, "\\t", 2); break;
		case '\b': sb_raw(b, "\\b", 2); break;
		case '\f': sb_raw(b, "\\f", 2); break;
		default: sb_printf(b, "\\u%04x", c);
		}
	}
	sb_raw(b, s + run, n - run);
	sb_raw(b, "\"", 1);
}

void sb_jcstr(sb *b, const char *s)
{
	sb_jstr(b, s, strlen(s));
}

void sb_free(sb *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static bool needs_comma(const sb *b)
{
	return b->len > 0 && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[';
}

void sb_key(sb *b, const char *key)
{
	if (needs_comma(b))
		sb_raw(b, ",", 1);
	sb_jcstr(b, key);
	sb_raw(b, ":", 1);
}

void sb_open(sb *b, char c)
{
	sb_raw(b, &c, 1);
}

void sb_close(sb *b, char c)
{
	sb_raw(b, &c, 1);
}

void sb_sep(sb *b)
{
	if (needs_comma(b))
		sb_raw(b, ",", 1);
}

void sb_kint(sb *b, const char *key, long long v)
{
	sb_key(b, key);
	sb_printf(b, "%lld", v);
}

void sb_kstr(sb *b, const char *key, const char *s)
{
	sb_key(b, key);
	sb_jcstr(b, s);
}

void sb_kbool(sb *b, const char *key, bool v)
{
	sb_key(b, key);
	sb_puts(b, v ? "true" : "false");
}

/* ---------------- base64 ---------------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode_to(sb *b, const uint8_t *p, size_t n)
{
	char out[4];
	size_t i = 0;
	/* Grow once: captures carry megabytes. */
	size_t need = b->len + (n + 2) / 3 * 4 + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < need)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char *d = b->p + b->len;
		d[0] = B64[v >> 18];
		d[1] = B64[(v >> 12) & 63];
		d[2] = B64[(v >> 6) & 63];
		d[3] = B64[v & 63];
		b->len += 4;
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		out[0] = B64[v >> 18];
		out[1] = B64[(v >> 12) & 63];
		out[2] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
		out[3] = '=';
		sb_raw(b, out, 4);
	}
	b->p[b->len] = 0;
}

void sb_b64(sb *b, const uint8_t *p, size_t n)
{
	sb_raw(b, "\"", 1);
	b64_encode_to(b, p, n);
	sb_raw(b, "\"", 1);
}

/* Decodes like Node's Buffer.from(s, 'base64'): skips what is not base64, accepts URL-safe letters. */
uint8_t *b64_decode(const char *s, size_t n, size_t *outlen)
{
	uint8_t *out = malloc(n / 4 * 3 + 4);
	if (!out)
		abort();
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else if (c == '=')
			break;
		else
			continue;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*outlen = o;
	return out;
}

/* ---------------- SHA-256 (FIPS 180-4) ---------------- */

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256 *s, const uint8_t *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
	s->h[5] += f;
	s->h[6] += g;
	s->h[7] += h;
}

void sha256_init(sha256 *s)
{
	static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, H0, sizeof(H0));
	s->bytes = 0;
	s->fill = 0;
}

void sha256_update(sha256 *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	s->bytes += n;
	if (s->fill) {
		size_t take = 64 - s->fill < n ? 64 - s->fill : n;
		memcpy(s->buf + s->fill, p, take);
		s->fill += take;
		p += take;
		n -= take;
		if (s->fill < 64)
			return;
		sha256_block(s, s->buf);
		s->fill = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		sha256_block(s, p);
	memcpy(s->buf, p, n);
	s->fill = n;
}

void sha256_hex(sha256 *s, char out[65])
{
	uint64_t bits = s->bytes * 8;
	uint8_t pad[72] = {0x80};
	size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
	uint64_t keep = s->bytes;
	sha256_update(s, pad, padlen + 8);
	s->bytes = keep;
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

/* ---------------- errors ---------------- */

int fail(err *e, const char *code, const char *fmt, ...)
{
	va_list ap;
	snprintf(e->code, sizeof(e->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->call[0] = 0;
	e->errnum = 0;
	e->set = true;
	return -1;
}

int fail_sys(err *e, const char *call, const char *what, int errnum)
{
	fail(e, "SYSCALL", "%s%s%s: %s (%s)", call, what ? " on " : "", what ? what : "", errno_name(errnum), strerror(errnum));
	snprintf(e->call, sizeof(e->call), "%s", call);
	e->errnum = errnum;
	return -1;
}

bool device_errno(const err *e)
{
	if (strcmp(e->code, "SYSCALL"))
		return false;
	int n = e->errnum;
	return n == EAGAIN || n == ECONNRESET || n == EPIPE || n == ETIMEDOUT || n == EHOSTUNREACH;
}

const char *errno_name(int n)
{
	/* By macro, not number: sparc64 numbers errnos differently from x86. */
#define E(x) \
	if (n == x) \
		return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM)
	E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE)
	E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG)
	E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(ENODATA) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE)
	E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN)
	E(ENETUNREACH) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED)
	E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS) E(ESOCKTNOSUPPORT) E(EPFNOSUPPORT) E(ENETRESET)
	E(ESHUTDOWN) E(ENOLINK) E(EPROTO) E(EBADMSG) E(EOVERFLOW) E(EILSEQ) E(ENOMEDIUM) E(ECANCELED) E(ERFKILL)
#undef E
	static __thread char buf[24];
	snprintf(buf, sizeof(buf), "errno %d", n);
	return buf;
}

/* ---------------- params ---------------- */

bool p_num(const jv *params, const char *key, double *out)
{
	jv *v = jget(params, key);
	if (!v || v->t != J_NUM)
		return false;
	*out = v->n;
	return true;
}

int need_num(err *e, const char *action, const jv *params, const char *key, double *out)
{
	if (p_num(params, key, out))
		return 0;
	return fail(e, "USAGE", "%s: expected a number \"%s\" in the parameters, found %s", action, key, jget(params, key) ? "another type" : "none");
}

int need_str(err *e, const char *action, const jv *params, const char *key, const char **out)
{
	jv *v = jget(params, key);
	if (v && v->t == J_STR) {
		*out = v->s;
		return 0;
	}
	return fail(e, "USAGE", "%s: expected a string \"%s\" in the parameters, found %s", action, key, v ? "another type" : "none");
}

const char *opt_str(const jv *params, const char *key)
{
	jv *v = jget(params, key);
	return v && v->t == J_STR ? v->s : NULL;
}

double opt_num(const jv *params, const char *key, double dflt)
{
	double d;
	return p_num(params, key, &d) ? d : dflt;
}

bool opt_bool(const jv *params, const char *key, bool dflt)
{
	jv *v = jget(params, key);
	if (!v || v->t == J_NULL)
		return dflt;
	if (v->t == J_BOOL)
		return v->b;
	return v->t == J_NUM ? v->n != 0 : v->t == J_STR ? v->slen > 0 : true;
}

/* ---------------- clocks ---------------- */

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t now_ms(void)
{
	return mono_ns() / 1000000;
}

int64_t realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void sleep_ms(int64_t ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void hex_of(const uint8_t *p, size_t n, char *out)
{
	static const char H[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = H[p[i] >> 4];
		out[2 * i + 1] = H[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* ---------------- resources ---------------- */

static pthread_mutex_t res_lock = PTHREAD_MUTEX_INITIALIZER;
static resource *res_tab;
static size_t res_len, res_cap;
static unsigned res_next;

void res_add(const char *prefix, const char *kind, void *obj, void (*close)(void *), char out_id[40])
{
	pthread_mutex_lock(&res_lock);
	if (res_len == res_cap) {
		res_cap = res_cap ? res_cap * 2 : 16;
		res_tab = xrealloc(res_tab, res_cap * sizeof(*res_tab));
	}
	resource *r = &res_tab[res_len++];
	snprintf(r->id, sizeof(r->id), "%s-%u", prefix, ++res_next);
	const char *scope = call_scope();
	snprintf(r->scope, sizeof(r->scope), "%s", scope ? scope : "");
	r->kind = kind;
	r->obj = obj;
	r->close = close;
	memcpy(out_id, r->id, sizeof(r->id));
	pthread_mutex_unlock(&res_lock);
}

static void *res_find(err *e, const char *action, const char *id, const char *kind, const char *what, bool take)
{
	void *obj = NULL;
	bool other = false;
	pthread_mutex_lock(&res_lock);
	for (size_t i = 0; i < res_len; i++) {
		if (strcmp(res_tab[i].id, id))
			continue;
		if (strcmp(res_tab[i].kind, kind)) {
			other = true;
			break;
		}
		obj = res_tab[i].obj;
		if (take)
			res_tab[i] = res_tab[--res_len];
		break;
	}
	pthread_mutex_unlock(&res_lock);
	if (!obj)
		fail(e, "AGENT", "%s: expected %s \"%s\", found %s", action, what, id, other ? "another kind of resource" : "none");
	return obj;
}

void *res_take(err *e, const char *action, const char *id, const char *kind, const char *what)
{
	return res_find(e, action, id, kind, what, true);
}

int res_close_action(const jv *p, sb *out, err *e, const char *action, const char *kind, const char *what, void (*close)(void *),
		     const char *result)
{
	const char *id;
	if (need_str(e, action, p, "id", &id) < 0)
		return -1;
	void *obj = res_take(e, action, id, kind, what);
	if (!obj)
		return -1;
	close(obj);
	sb_puts(out, result);
	return 0;
}

void *res_peek(err *e, const char *action, const char *id, const char *kind, const char *what)
{
	return res_find(e, action, id, kind, what, false);
}

void *res_take_where(const char *kind, bool (*match)(void *obj, const void *arg), const void *arg)
{
	void *obj = NULL;
	pthread_mutex_lock(&res_lock);
	for (size_t i = 0; i < res_len; i++)
		if (!strcmp(res_tab[i].kind, kind) && match(res_tab[i].obj, arg)) {
			obj = res_tab[i].obj;
			res_tab[i] = res_tab[--res_len];
			break;
		}
	pthread_mutex_unlock(&res_lock);
	return obj;
}

void res_close_all(void)
{
	for (;;) {
		pthread_mutex_lock(&res_lock);
		if (res_len == 0) {
			pthread_mutex_unlock(&res_lock);
			return;
		}
		resource r = res_tab[--res_len];
		pthread_mutex_unlock(&res_lock);
		r.close(r.obj);
	}
}

int res_close_scope(const char *scope)
{
	int n = 0;
	for (;;) {
		resource r;
		bool found = false;
		pthread_mutex_lock(&res_lock);
		for (size_t i = 0; i < res_len; i++)
			if (res_tab[i].scope[0] && !strcmp(res_tab[i].scope, scope)) {
				r = res_tab[i];
				res_tab[i] = res_tab[--res_len];
				found = true;
				break;
			}
		pthread_mutex_unlock(&res_lock);
		if (!found)
			return n;
		r.close(r.obj);
		n++;
	}
}

void res_ids(sb *out)
{
	sb_open(out, '[');
	pthread_mutex_lock(&res_lock);
	for (size_t i = 0; i < res_len; i++) {
		sb_sep(out);
		sb_jcstr(out, res_tab[i].id);
	}
	pthread_mutex_unlock(&res_lock);
	sb_close(out, ']');
}

void pause_ms(int64_t ms)
{
	int64_t end = now_ms() + ms;
	while (!call_cancelled()) {
		int64_t left = end - now_ms();
		if (left <= 0)
			return;
		sleep_ms(left < 10 ? left : 10);
	}
}
