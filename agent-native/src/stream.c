/*
 * Seeded-stream senders: tcp.stream (harness/agent/actions/tcp-stream.ts), one
 * TCP connection of large writes, each acknowledged before the next, with what
 * TCP_INFO says of it; and udp.gsoSend (udp-gso.ts), UDP_SEGMENT sends. The
 * peer rebuilds the bytes from the seed (harness/codec/random.ts bytes()).
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* Bytes of struct tcp_info asked for: through tcpi_dsack_dups; an older kernel writes less and says so. */
#define TCP_INFO_LEN 232
#define TCPI_OPT_TIMESTAMPS_BIT 1
#define TCPI_OPT_ECN_BIT 8
/* Most short sends reported; past that the judge is told there were more. */
#define MAX_SHORT_SENDS 4096

/* The first `n` bytes of the seeded stream: mulberry32 words, little-endian, the last word cut. */
static uint8_t *stream_bytes(double seed, size_t n)
{
	uint8_t *out = malloc(n ? n : 1);
	if (!out)
		abort();
	rng r;
	rng_init(&r, seed);
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		uint32_t v = rng_u32(&r);
		for (int k = 0; k < 4; k++)
			out[i + k] = (uint8_t)(v >> (8 * k));
	}
	if (i < n) {
		uint32_t last = rng_u32(&r);
		for (int k = 0; i < n; i++, k++)
			out[i] = (uint8_t)(last >> (8 * k));
	}
	return out;
}

/* What TCP_INFO says about a connection (the Node agent's TcpInfoFacts). */
typedef struct info_facts {
	unsigned snd_mss, pmtu, total_retrans, dsack_dups, data_segs_out;
	bool has_dsack, has_data_segs_out, timestamps, ecn;
} info_facts;

static unsigned u32_at(const uint8_t *b, socklen_t n, size_t off)
{
	uint32_t v = 0;
	if (n >= off + 4)
		memcpy(&v, b + off, 4);
	return v;
}

static int read_info(err *e, int fd, const char *what, info_facts *f)
{
	uint8_t b[TCP_INFO_LEN] = {0};
	socklen_t n = sizeof(b);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, b, &n) < 0)
		return fail_sys(e, "getsockopt(TCP_INFO)", what, errno);
	f->snd_mss = u32_at(b, n, 16);
	f->pmtu = u32_at(b, n, 60);
	f->total_retrans = u32_at(b, n, 100);
	f->has_data_segs_out = n >= 160;
	f->data_segs_out = u32_at(b, n, 156);
	f->has_dsack = n >= 220;
	f->dsack_dups = u32_at(b, n, 216);
	f->timestamps = n > 5 && (b[5] & TCPI_OPT_TIMESTAMPS_BIT);
	f->ecn = n > 5 && (b[5] & TCPI_OPT_ECN_BIT);
	return 0;
}

static void put_info(sb *out, const info_facts *f)
{
	sb_key(out, "info");
	sb_open(out, '{');
	sb_kint(out, "sndMss", f->snd_mss);
	sb_kint(out, "pmtu", f->pmtu);
	sb_kint(out, "totalRetrans", f->total_retrans);
	if (f->has_dsack)
		sb_kint(out, "dsackDups", f->dsack_dups);
	if (f->has_data_segs_out)
		sb_kint(out, "dataSegsOut", f->data_segs_out);
	sb_kbool(out, "timestamps", f->timestamps);
	sb_kbool(out, "ecn", f->ecn);
	sb_close(out, '}');
}

static int unacked(int fd)
{
	int q = 0;
	return ioctl(fd, SIOCOUTQ, &q) == 0 ? q : 0;
}

/* Waits until the peer acknowledged everything written; false after `ms`. */
static bool wait_acked(int fd, int ms)
{
	int64_t deadline = now_ms() + ms;
	while (unacked(fd) > 0) {
		if (now_ms() >= deadline || call_cancelled())
			return false;
		sleep_ms(1);
	}
	return true;
}

/*
 * Writes all of data, one send() per chance, noting (as stream offsets from `base`) where a send() took only
 * part: the kernel pushes at the end of every send() call. 0 when the socket had no room for `ms`, -1 on error.
 */
static int write_all(err *e, int fd, const uint8_t *data, size_t len, size_t base, sb *shorts, size_t *nshort, int ms, const char *what)
{
	int64_t deadline = now_ms() + ms;
	size_t off = 0;
	while (off < len) {
		ssize_t k = send(fd, data + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k >= 0) {
			off += (size_t)k;
			if (off < len && *nshort < MAX_SHORT_SENDS) {
				sb_sep(shorts);
				sb_printf(shorts, "%zu", base + off);
				(*nshort)++;
			}
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return fail_sys(e, "send()", what, errno);
		if (now_ms() >= deadline || call_cancelled())
			return 0;
		wait_fd(fd, POLLOUT, (int)(deadline - now_ms()));
	}
	return 1;
}

static int act_tcp_stream(const jv *p, sb *out, err *e)
{
	int family;
	const char *dst;
	double dport, seed, ack_ms;
	if (get_family(e, "tcp.stream", p, &family) < 0 || need_str(e, "tcp.stream", p, "dst", &dst) < 0 ||
	    need_num(e, "tcp.stream", p, "dport", &dport) < 0 || need_num(e, "tcp.stream", p, "seed", &seed) < 0 ||
	    need_num(e, "tcp.stream", p, "ackTimeoutMs", &ack_ms) < 0)
		return -1;
	const jv *wj = jget(p, "writes");
	if (!wj || wj->t != J_ARR)
		return fail(e, "USAGE", "tcp.stream: expected an array \"writes\" in the parameters");
	char what[32];
	snprintf(what, sizeof(what), "TCP/IPv%d socket", family);
	int fd = tcp_open(e, family, opt_str(p, "src"), (int)opt_num(p, "sport", 0), opt_bool(p, "nodelay", true), what);
	if (fd < 0)
		return -1;
	double mss_opt;
	if (p_num(p, "mss", &mss_opt) && set_int(e, fd, IPPROTO_TCP, TCP_MAXSEG, (int)mss_opt, "TCP_MAXSEG", what) < 0)
		goto bad;
	if (tcp_connect(e, fd, family, dst, (int)dport, 5000, what) < 0)
		goto bad;
	info_facts f;
	if (read_info(e, fd, what, &f) < 0)
		goto bad;
	/* A size that is a multiple of the MSS grows by one, so each write ends in a short push. */
	size_t nw = wj->len, total = 0;
	size_t *writes = calloc(nw ? nw : 1, sizeof(size_t));
	for (size_t i = 0; i < nw; i++) {
		size_t n = wj->items[i]->t == J_NUM ? (size_t)wj->items[i]->n : 0;
		writes[i] = f.snd_mss > 0 && n % f.snd_mss == 0 ? n + 1 : n;
		total += writes[i];
	}
	uint8_t *data = stream_bytes(seed, total);
	sb shorts = {0};
	sb_open(&shorts, '[');
	size_t nshort = 0, off = 0;
	long long stalled = -1, stalled_unacked = 0;
	int rc = 0;
	for (size_t i = 0; i < nw && stalled < 0; i++) {
		/* No room in the send buffer for that long: the peer stopped acknowledging. */
		rc = write_all(e, fd, data + off, writes[i], off, &shorts, &nshort, (int)ack_ms, what);
		if (rc < 0)
			break;
		off += writes[i];
		if (rc == 0 || !wait_acked(fd, (int)ack_ms)) {
			stalled = (long long)i;
			stalled_unacked = unacked(fd);
		}
	}
	free(data);
	sb_close(&shorts, ']');
	if (rc < 0 || read_info(e, fd, what, &f) < 0) {
		free(writes);
		sb_free(&shorts);
		goto bad;
	}
	if (stalled >= 0) {
		/* A reset, not a FIN the peer would wait behind the missing bytes for. */
		struct linger l = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(fd);
	} else {
		tcp_close_acked_info(fd, (int)ack_ms, NULL);
	}
	sb_open(out, '{');
	sb_key(out, "writes");
	sb_open(out, '[');
	for (size_t i = 0; i < nw; i++) {
		sb_sep(out);
		sb_printf(out, "%zu", writes[i]);
	}
	sb_close(out, ']');
	sb_kint(out, "bytes", (long long)off);
	if (stalled >= 0) {
		sb_key(out, "stalled");
		sb_open(out, '{');
		sb_kint(out, "write", stalled);
		sb_kint(out, "unacked", stalled_unacked);
		sb_close(out, '}');
	}
	sb_key(out, "shortSends");
	sb_raw(out, shorts.p, shorts.len);
	put_info(out, &f);
	sb_close(out, '}');
	free(writes);
	sb_free(&shorts);
	return 0;
bad:
	close(fd);
	return -1;
}

static int act_udp_gso_send(const jv *p, sb *out, err *e)
{
	int family;
	const char *dst;
	double dport, seed;
	if (get_family(e, "udp.gsoSend", p, &family) < 0 || need_str(e, "udp.gsoSend", p, "dst", &dst) < 0 ||
	    need_num(e, "udp.gsoSend", p, "dport", &dport) < 0 || need_num(e, "udp.gsoSend", p, "seed", &seed) < 0)
		return -1;
	const jv *sends = jget(p, "sends");
	if (!sends || sends->t != J_ARR)
		return fail(e, "USAGE", "udp.gsoSend: expected an array \"sends\" in the parameters");
	size_t offset = (size_t)opt_num(p, "offset", 0), total = 0;
	for (size_t i = 0; i < sends->len; i++)
		total += (size_t)opt_num(sends->items[i], "bytes", 0);
	char what[32];
	snprintf(what, sizeof(what), "UDP/IPv%d socket", family);
	int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return fail_sys(e, family == 4 ? "socket(AF_INET, SOCK_DGRAM)" : "socket(AF_INET6, SOCK_DGRAM)", what, errno);
	const char *src = opt_str(p, "src");
	int sport = (int)opt_num(p, "sport", 0);
	struct sockaddr_storage ss;
	unsigned slen;
	if (src || sport) {
		const char *a = src ? src : family == 4 ? "0.0.0.0" : "::";
		if (inet_sockaddr(e, family, a, sport, &ss, &slen) < 0)
			goto bad;
		if (bind(fd, (struct sockaddr *)&ss, slen) < 0) {
			char call[160];
			snprintf(call, sizeof(call), "bind(%s port %d)", a, sport);
			fail_sys(e, call, what, errno);
			goto bad;
		}
	}
	if (inet_sockaddr(e, family, dst, (int)dport, &ss, &slen) < 0)
		goto bad;
	uint8_t *stream = stream_bytes(seed, offset + total);
	const uint8_t *data = stream + offset;
	char call[160];
	snprintf(call, sizeof(call), "sendmsg(to %s port %d)", dst, (int)dport);
	size_t off = 0;
	long long bytes = 0;
	for (size_t i = 0; i < sends->len; i++) {
		size_t n = (size_t)opt_num(sends->items[i], "bytes", 0);
		int gso = (int)opt_num(sends->items[i], "gsoSize", 0);
		char opt[48];
		snprintf(opt, sizeof(opt), "UDP_SEGMENT %d", gso);
		if (set_int(e, fd, SOL_UDP, UDP_SEGMENT, gso, opt, what) < 0) {
			free(stream);
			goto bad;
		}
		int64_t deadline = now_ms() + 1000;
		for (;;) {
			ssize_t k = sendto(fd, data + off, n, MSG_NOSIGNAL, (struct sockaddr *)&ss, slen);
			if (k >= 0) {
				bytes += k;
				break;
			}
			int en = errno;
			if (en == EINTR)
				continue;
			if (en != EAGAIN || now_ms() >= deadline) {
				char w[64];
				snprintf(w, sizeof(w), en == EAGAIN ? "%s (no room for 1000 ms)" : "%s", what);
				fail_sys(e, call, w, en);
				free(stream);
				goto bad;
			}
			wait_fd(fd, POLLOUT, (int)(deadline - now_ms()));
		}
		off += n;
	}
	free(stream);
	close(fd);
	sb_open(out, '{');
	sb_kint(out, "sent", (long long)sends->len);
	sb_kint(out, "bytes", bytes);
	sb_close(out, '}');
	return 0;
bad:
	close(fd);
	return -1;
}

const action stream_actions[] = {
	{"tcp.stream", act_tcp_stream},
	{"udp.gsoSend", act_udp_gso_send},
	{NULL, NULL},
};
