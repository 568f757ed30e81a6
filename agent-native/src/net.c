/*
 * Network actions: AF_PACKET capture (PACKET_AUXDATA, PACKET_VNET_HDR) and
 * send, UDP send and receive, TCP send, sink and held connections; the
 * socket helpers the zc actions share.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef SO_NO_CHECK
#define SO_NO_CHECK 11
#endif

/* ---------------- socket helpers ---------------- */

int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = {fd, events, 0};
	if (ms < 0)
		ms = 0;
	int r = poll(&p, 1, ms);
	return r > 0 ? p.revents : 0;
}

int set_int(err *e, int fd, int level, int opt, int v, const char *name, const char *what)
{
	if (setsockopt(fd, level, opt, &v, sizeof(v)) < 0) {
		char call[96];
		snprintf(call, sizeof(call), "setsockopt(%s)", name);
		return fail_sys(e, call, what, errno);
	}
	return 0;
}

/* Address text (IPv6 may carry "%ifname") and port to a sockaddr. */
int inet_sockaddr(err *e, int family, const char *text, int port, void *sa, unsigned *salen)
{
	char addr[128];
	snprintf(addr, sizeof(addr), "%s", text);
	char *zone = strchr(addr, '%');
	if (zone)
		*zone++ = 0;
	if (family == 4) {
		struct sockaddr_in *s = sa;
		memset(s, 0, sizeof(*s));
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s->sin_addr) != 1)
			return fail(e, "USAGE", "expected an IPv4 address, found \"%s\"", text);
		*salen = sizeof(*s);
		return 0;
	}
	struct sockaddr_in6 *s = sa;
	memset(s, 0, sizeof(*s));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	if (inet_pton(AF_INET6, addr, &s->sin6_addr) != 1)
		return fail(e, "USAGE", "expected an IPv6 address, found \"%s\"", text);
	if (zone) {
		s->sin6_scope_id = if_nametoindex(zone);
		if (!s->sin6_scope_id) {
			char call[64];
			snprintf(call, sizeof(call), "if_nametoindex(\"%s\")", zone);
			return fail_sys(e, call, NULL, errno);
		}
	}
	*salen = sizeof(*s);
	return 0;
}

static int open_inet(err *e, int family, int type, int proto, const char *what)
{
	int fd = socket(family == 4 ? AF_INET : AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0) {
		char call[64];
		snprintf(call, sizeof(call), "socket(%s, %s)", family == 4 ? "AF_INET" : "AF_INET6", type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM");
		return fail_sys(e, call, what, errno);
	}
	return fd;
}

static int bind_to(err *e, int fd, int family, const char *src, int port)
{
	struct sockaddr_storage ss;
	unsigned len;
	const char *a = src ? src : family == 4 ? "0.0.0.0" : "::";
	if (inet_sockaddr(e, family, a, port, &ss, &len) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		char call[160];
		snprintf(call, sizeof(call), "bind(%s port %d)", a, port);
		return fail_sys(e, call, NULL, errno);
	}
	return 0;
}

int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int tcp_open(err *e, int family, const char *src, int sport, bool nodelay, const char *what)
{
	int fd = open_inet(e, family, SOCK_STREAM, IPPROTO_TCP, what);
	if (fd < 0)
		return -1;
	if (nodelay && set_int(e, fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY", what) < 0)
		goto bad;
	if (src || sport) {
		if (set_int(e, fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", what) < 0 || bind_to(e, fd, family, src, sport) < 0)
			goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

int tcp_connect(err *e, int fd, int family, const char *dst, int port, int timeout_ms, const char *what)
{
	struct sockaddr_storage ss;
	unsigned len;
	char call[160];
	snprintf(call, sizeof(call), "connect(%s port %d)", dst, port);
	if (inet_sockaddr(e, family, dst, port, &ss, &len) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return fail_sys(e, call, what, errno);
	if (wait_fd(fd, POLLOUT, timeout_ms) == 0) {
		char w[160];
		snprintf(w, sizeof(w), "%s (no answer within %d ms)", what, timeout_ms);
		return fail_sys(e, call, w, ETIMEDOUT);
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr)
		return fail_sys(e, call, what, soerr);
	return 0;
}

long long tcp_send_all(err *e, int fd, const uint8_t *data, size_t n, int timeout_ms, const char *what)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t off = 0;
	while (off < n) {
		ssize_t k = send(fd, data + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k >= 0) {
			off += (size_t)k;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return fail_sys(e, "send()", what, errno);
		if (now_ms() >= deadline) {
			char w[160];
			snprintf(w, sizeof(w), "%s (no room for %d ms)", what, timeout_ms);
			return fail_sys(e, "send()", w, EAGAIN);
		}
		wait_fd(fd, POLLOUT, (int)(deadline - now_ms()));
	}
	return (long long)off;
}

/* struct tcp_info as the kernel wrote it, read at the offsets the Node agent's decodeTcpInfo uses. */
static unsigned tcpi_u32(const unsigned char *b, socklen_t n, size_t off)
{
	uint32_t v = 0;
	if (n >= off + 4)
		memcpy(&v, b + off, 4);
	return v;
}

int tcp_info_read(int fd, tcp_facts *t)
{
	unsigned char b[232] = {0};
	socklen_t n = sizeof(b);
	memset(t, 0, sizeof(*t));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, b, &n) < 0)
		return -1;
	t->total_retrans = tcpi_u32(b, n, 100);
	t->snd_mss = tcpi_u32(b, n, 16);
	t->has_data_segs = n >= 160;
	t->data_segs_in = tcpi_u32(b, n, 152);
	t->data_segs_out = tcpi_u32(b, n, 156);
	t->has_dsack = n >= 220;
	t->dsack_dups = tcpi_u32(b, n, 216);
	t->valid = true;
	return 0;
}

void tcp_info_put(sb *out, const tcp_facts *t)
{
	tcp_info_put_as(out, "tcp", t);
}

void tcp_info_put_as(sb *out, const char *key, const tcp_facts *t)
{
	if (!t->valid)
		return;
	sb_key(out, key);
	sb_open(out, '{');
	sb_kint(out, "totalRetrans", t->total_retrans);
	sb_kint(out, "sndMss", t->snd_mss);
	if (t->has_data_segs) {
		sb_kint(out, "dataSegsIn", t->data_segs_in);
		sb_kint(out, "dataSegsOut", t->data_segs_out);
	}
	if (t->has_dsack)
		sb_kint(out, "dsackDups", t->dsack_dups);
	sb_close(out, '}');
}

/*
 * shutdown(SHUT_WR), then wait until the peer acknowledged the FIN (SIOCOUTQ counts its sequence number), not for the
 * peer's own FIN: a receiver that keeps its socket open after the stream's end still counts copies in flight. TCP_INFO
 * into *t (if given) last; closes in any case (an orphan in FIN_WAIT2 then answers the peer's FIN).
 */
void tcp_close_acked_info(int fd, int timeout_ms, tcp_facts *t)
{
	if (shutdown(fd, SHUT_WR) == 0) {
		int64_t deadline = now_ms() + timeout_ms;
		int outq = 0, pause = 1;
		/* 1 ms at first, doubling to 16: a slow emulated link drains for seconds, and a guest should not spin meanwhile. */
		while (ioctl(fd, SIOCOUTQ, &outq) == 0 && outq > 0 && now_ms() < deadline) {
			sleep_ms(pause);
			pause = pause < 16 ? pause * 2 : 16;
		}
	}
	if (t)
		tcp_info_read(fd, t);
	close(fd);
}

static int ifindex_of(err *e, const char *ifname)
{
	int idx = (int)if_nametoindex(ifname);
	if (!idx) {
		char call[64];
		snprintf(call, sizeof(call), "if_nametoindex(\"%s\")", ifname);
		return fail_sys(e, call, NULL, errno);
	}
	return idx;
}

/* ---------------- AF_PACKET ---------------- */

static int packet_open(err *e, const char *ifname, bool receive, bool vnet, int rcvbuf)
{
	char what[64];
	snprintf(what, sizeof(what), "AF_PACKET socket on %s", ifname);
	int idx = ifindex_of(e, ifname);
	if (idx < 0)
		return -1;
	/* Protocol 0 at socket(): nothing is queued until bind() names the interface. */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail_sys(e, "socket(AF_PACKET, SOCK_RAW)", what, errno);
	if (vnet && set_int(e, fd, SOL_PACKET, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR", what) < 0)
		goto bad;
	if (receive) {
		if (set_int(e, fd, SOL_PACKET, PACKET_AUXDATA, 1, "PACKET_AUXDATA", what) < 0 ||
		    set_int(e, fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS", what) < 0)
			goto bad;
		if (rcvbuf && set_int(e, fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf, "SO_RCVBUFFORCE", what) < 0)
			goto bad;
	}
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = receive ? htons(ETH_P_ALL) : 0;
	sll.sll_ifindex = idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		char call[64];
		snprintf(call, sizeof(call), "bind(ifindex %d)", idx);
		fail_sys(e, call, what, errno);
		goto bad;
	}
	if (receive) {
		/* Counters start at socket creation; reading them once resets them to this point. */
		struct tpacket_stats st;
		socklen_t sl = sizeof(st);
		getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
	}
	return fd;
bad:
	close(fd);
	return -1;
}

typedef struct frame {
	uint8_t *data;
	size_t n;
	struct tpacket_auxdata aux;
	bool has_aux;
	int pkttype;
	struct virtio_net_hdr vnet;
	int64_t ts;
} frame;

typedef struct capture {
	int fd;
	bool vnet;
	size_t snaplen;
	int64_t start_ns;
	pthread_t thread;
	pthread_mutex_t lock;
	frame *frames;
	size_t nframes, cap;
	size_t incoming; /* frames not PACKET_OUTGOING */
	int unrepresentable;
	volatile int stop;
	err failure;
} capture;

/* Reads everything queued (never blocks); false when the socket failed. */
static bool capture_drain(capture *c, uint8_t *buf, size_t buflen)
{
	char control[256];
	for (;;) {
		struct sockaddr_ll from;
		struct iovec iov = {buf, buflen};
		struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
		ssize_t n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			/* A GSO frame whose virtio_net_hdr the kernel cannot fill: it consumed the frame. */
			if (c->vnet && errno == EINVAL) {
				c->unrepresentable++;
				continue;
			}
			fail_sys(&c->failure, "recvmsg()", "capture", errno);
			return false;
		}
		frame f;
		memset(&f, 0, sizeof(f));
		size_t got = (size_t)n < buflen ? (size_t)n : buflen;
		size_t skip = c->vnet ? sizeof(struct virtio_net_hdr) : 0;
		if (got < skip)
			continue;
		if (c->vnet)
			memcpy(&f.vnet, buf, skip);
		f.n = got - skip;
		f.data = malloc(f.n ? f.n : 1);
		if (!f.data)
			abort();
		memcpy(f.data, buf + skip, f.n);
		f.pkttype = from.sll_pkttype;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA) {
				memcpy(&f.aux, CMSG_DATA(cm), sizeof(f.aux));
				f.has_aux = true;
			} else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				f.ts = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			}
		}
		pthread_mutex_lock(&c->lock);
		if (c->nframes == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 256;
			c->frames = realloc(c->frames, c->cap * sizeof(frame));
			if (!c->frames)
				abort();
		}
		c->frames[c->nframes++] = f;
		if (f.pkttype != PACKET_OUTGOING)
			c->incoming++;
		pthread_mutex_unlock(&c->lock);
	}
}

static void *capture_thread(void *arg)
{
	capture *c = arg;
	size_t buflen = c->snaplen + sizeof(struct virtio_net_hdr);
	uint8_t *buf = malloc(buflen);
	if (!buf)
		abort();
	while (!c->stop) {
		if (!capture_drain(c, buf, buflen))
			break;
		wait_fd(c->fd, POLLIN, 20);
	}
	if (!c->failure.set)
		capture_drain(c, buf, buflen);
	free(buf);
	return NULL;
}

static void capture_free(capture *c)
{
	for (size_t i = 0; i < c->nframes; i++)
		free(c->frames[i].data);
	free(c->frames);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void capture_close(void *obj)
{
	capture *c = obj;
	c->stop = 1;
	pthread_join(c->thread, NULL);
	close(c->fd);
	capture_free(c);
}

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int r = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return r;
}

static int act_capture_start(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "capture.start", p, "ifname", &ifname) < 0)
		return -1;
	capture *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->start_ns = realtime_ns();
	c->vnet = opt_bool(p, "vnetHdr", false);
	c->snaplen = (size_t)opt_num(p, "snaplen", 262144);
	pthread_mutex_init(&c->lock, NULL);
	c->fd = packet_open(e, ifname, true, c->vnet, 32 << 20);
	if (c->fd < 0) {
		capture_free(c);
		return -1;
	}
	if (start_thread(&c->thread, capture_thread, c) != 0) {
		close(c->fd);
		capture_free(c);
		return fail(e, "AGENT", "capture.start: could not start the capture thread");
	}
	char id[40];
	res_add("capture", "capture", c, capture_close, id);
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_close(out, '}');
	return 0;
}

static size_t capture_count(capture *c, bool incoming_only)
{
	pthread_mutex_lock(&c->lock);
	size_t n = incoming_only ? c->incoming : c->nframes;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* How often a capture waiting on a device's drop counters reads them (frames arrive far more often). */
#define DROPS_POLL_MS 200

static int act_capture_stop(const jv *p, sb *out, err *e)
{
	const char *id;
	if (need_str(e, "capture.stop", p, "id", &id) < 0)
		return -1;
	capture *c = res_take(e, "capture.stop", id, "capture", "an open capture");
	if (!c)
		return -1;
	bool no_out = opt_bool(p, "ignoreOutgoing", false);
	double expect;
	/* A cancelled call ends its waits early: what was captured so far is returned. */
	if (!p_num(p, "expect", &expect)) {
		pause_ms((int64_t)opt_num(p, "settleMs", 100));
	} else {
		int64_t deadline = now_ms() + (int64_t)opt_num(p, "timeoutMs", 2000);
		/* Frames the DUT counted as dropped (dropsFrom) are accounted for too: read every DROPS_POLL_MS, not per frame. */
		jv *drops = jget(p, "dropsFrom");
		long long dropped = 0;
		int64_t read_at = 0;
		/* quietMs: the wait also ends once no frame arrived for that long (some expected frames may rightly never come). */
		double quiet_ms = opt_num(p, "quietMs", -1);
		size_t seen = capture_count(c, no_out);
		int64_t grew_at = now_ms();
		while ((double)(capture_count(c, no_out) + dropped) < expect && now_ms() < deadline && !c->failure.set && !call_cancelled()) {
			size_t n = capture_count(c, no_out);
			if (n > seen) {
				seen = n;
				grew_at = now_ms();
			}
			if (quiet_ms >= 0 && (double)(now_ms() - grew_at) >= quiet_ms)
				break;
			if (drops && drops->t == J_OBJ && now_ms() - read_at >= DROPS_POLL_MS) {
				dropped = drops_since(drops);
				read_at = now_ms();
				continue;
			}
			sleep_ms(deadline - now_ms() < 5 ? deadline - now_ms() : 5);
		}
		pause_ms((int64_t)opt_num(p, "settleMs", 0));
	}
	c->stop = 1;
	pthread_join(c->thread, NULL);
	struct tpacket_stats st = {0};
	socklen_t sl = sizeof(st);
	getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
	close(c->fd);
	if (c->failure.set) {
		*e = c->failure;
		capture_free(c);
		return -1;
	}
	sb_open(out, '{');
	sb_key(out, "frames");
	sb_open(out, '[');
	for (size_t i = 0; i < c->nframes; i++) {
		frame *f = &c->frames[i];
		if (no_out && f->pkttype == PACKET_OUTGOING)
			continue;
		sb_sep(out);
		sb_open(out, '{');
		sb_key(out, "data");
		sb_b64(out, f->data, f->n);
		sb_kint(out, "len", f->has_aux ? (long long)f->aux.tp_len : (long long)f->n);
		sb_kint(out, "status", f->has_aux ? (long long)f->aux.tp_status : 0);
		sb_kint(out, "pkttype", f->pkttype);
		sb_kint(out, "vlanTci", f->has_aux ? f->aux.tp_vlan_tci : 0);
		sb_kint(out, "vlanTpid", f->has_aux ? f->aux.tp_vlan_tpid : 0);
		sb_kint(out, "tsNs", f->ts > c->start_ns ? (long long)(f->ts - c->start_ns) : 0);
		if (c->vnet) {
			sb_kint(out, "vnetFlags", f->vnet.flags);
			if (f->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
				sb_kint(out, "csumStart", f->vnet.csum_start);
				sb_kint(out, "csumOffset", f->vnet.csum_offset);
			}
			if (f->vnet.gso_type != 0) {
				sb_kint(out, "gsoType", f->vnet.gso_type);
				sb_kint(out, "gsoSize", f->vnet.gso_size);
			}
		}
		sb_close(out, '}');
	}
	sb_close(out, ']');
	sb_kint(out, "dropped", (long long)st.tp_drops + c->unrepresentable);
	sb_close(out, '}');
	capture_free(c);
	return 0;
}

static int act_packet_send(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "packet.send", p, "ifname", &ifname) < 0)
		return -1;
	jv *frames = jget(p, "frames");
	jv *vnet = jget(p, "vnet");
	if (!frames || frames->t != J_ARR)
		return fail(e, "USAGE", "packet.send: expected an array \"frames\" in the parameters");
	if (vnet && vnet->t == J_NULL)
		vnet = NULL;
	if (vnet && (vnet->t != J_ARR || vnet->len != frames->len))
		return fail(e, "USAGE", "packet.send: expected one virtio_net_hdr per frame (%zu), found %zu", frames->len, vnet && vnet->t == J_ARR ? vnet->len : 0);
	double rate = opt_num(p, "rateMbps", -1);
	if (jhas(p, "rateMbps") && !(rate > 0))
		return fail(e, "USAGE", "packet.send: expected a positive rateMbps, found %g", rate);
	int fd = packet_open(e, ifname, false, vnet != NULL, 0);
	if (fd < 0)
		return -1;
	int64_t start_ns = mono_ns();
	double bits = 0;
	char what[64];
	snprintf(what, sizeof(what), "AF_PACKET socket on %s", ifname);
	size_t sent = 0;
	for (size_t i = 0; i < frames->len; i++) {
		jv *fr = frames->items[i];
		size_t n = 0;
		uint8_t *data = fr->t == J_STR ? b64_decode(fr->s, fr->slen, &n) : calloc(1, 1);
		struct virtio_net_hdr h;
		memset(&h, 0, sizeof(h));
		if (vnet) {
			jv *v = vnet->items[i];
			h.flags = (uint8_t)opt_num(v, "flags", 0);
			h.gso_type = (uint8_t)opt_num(v, "gsoType", 0);
			h.hdr_len = (uint16_t)opt_num(v, "hdrLen", 0);
			h.gso_size = (uint16_t)opt_num(v, "gsoSize", 0);
			h.csum_start = (uint16_t)opt_num(v, "csumStart", 0);
			h.csum_offset = (uint16_t)opt_num(v, "csumOffset", 0);
		}
		if (rate > 0) {
			/* 1 Mb/s is 1000 bits per ms: frame i may leave once the frames before it had their wire time. */
			double ahead = (double)start_ns / 1e6 + bits / (rate * 1000) - (double)mono_ns() / 1e6;
			if (ahead >= 1)
				pause_ms((int64_t)ahead);
		}
		/* Bits on an Ethernet wire: padded to 60 bytes, plus FCS, preamble and inter-frame gap. */
		bits += (double)((n > 60 ? n : 60) + 4 + 8 + 12) * 8;
		struct iovec iov[2] = {{&h, sizeof(h)}, {data, n}};
		struct msghdr m = {0};
		m.msg_iov = vnet ? iov : iov + 1;
		m.msg_iovlen = vnet ? 2 : 1;
		int64_t deadline = now_ms() + 1000;
		for (;;) {
			if (sendmsg(fd, &m, MSG_NOSIGNAL) >= 0)
				break;
			int en = errno;
			if (en == EINTR)
				continue;
			if (en != EAGAIN && en != ENOBUFS) {
				free(data);
				close(fd);
				return fail_sys(e, "sendmsg()", what, en);
			}
			if (now_ms() >= deadline) {
				free(data);
				close(fd);
				char w[128];
				snprintf(w, sizeof(w), "%s (no room for 1000 ms)", what);
				return fail_sys(e, "sendmsg()", w, EAGAIN);
			}
			wait_fd(fd, POLLOUT, 10);
		}
		free(data);
		sent++;
	}
	close(fd);
	sb_open(out, '{');
	sb_kint(out, "sent", (long long)sent);
	sb_close(out, '}');
	return 0;
}

/* ---------------- UDP ---------------- */

static int udp_open(err *e, int family, const char *src, int sport, const char *what)
{
	int fd = open_inet(e, family, SOCK_DGRAM, IPPROTO_UDP, what);
	if (fd < 0)
		return -1;
	if ((src || sport) && bind_to(e, fd, family, src, sport) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int get_family(err *e, const char *action, const jv *p, int *family)
{
	double f;
	if (need_num(e, action, p, "family", &f) < 0)
		return -1;
	if (f != 4 && f != 6)
		return fail(e, "USAGE", "%s: expected family 4 or 6, found %g", action, f);
	*family = (int)f;
	return 0;
}

static int act_udp_send(const jv *p, sb *out, err *e)
{
	int family;
	const char *dst;
	double dport;
	if (get_family(e, "udp.send", p, &family) < 0 || need_str(e, "udp.send", p, "dst", &dst) < 0 ||
	    need_num(e, "udp.send", p, "dport", &dport) < 0)
		return -1;
	jv *payloads = jget(p, "payloads");
	if (!payloads || payloads->t != J_ARR)
		return fail(e, "USAGE", "udp.send: expected an array \"payloads\" in the parameters");
	char what[32];
	snprintf(what, sizeof(what), "UDP/IPv%d socket", family);
	const char *src = opt_str(p, "src");
	int sport = (int)opt_num(p, "sport", 0);
	bool nocheck = opt_bool(p, "noChecksum", false);
	const char *ipopt = opt_str(p, "ipOptions"), *dstopts = opt_str(p, "ipv6DstOpts");
	if (nocheck && family != 4)
		return fail(e, "USAGE", "UDP noChecksum: expected family 4 (SO_NO_CHECK is IPv4 only), found family 6");
	if (ipopt && family != 4)
		return fail(e, "USAGE", "UDP ipOptions: expected family 4, found family 6");
	if (dstopts && family != 6)
		return fail(e, "USAGE", "UDP IPv6 extension headers: expected family 6, found family 4");
	int fd = open_inet(e, family, SOCK_DGRAM, IPPROTO_UDP, what);
	if (fd < 0)
		return -1;
	if (nocheck && set_int(e, fd, SOL_SOCKET, SO_NO_CHECK, 1, "SO_NO_CHECK", what) < 0)
		goto bad;
	if (ipopt || dstopts) {
		size_t n;
		uint8_t *b = b64_decode(ipopt ? ipopt : dstopts, strlen(ipopt ? ipopt : dstopts), &n);
		int r = ipopt ? setsockopt(fd, SOL_IP, IP_OPTIONS, b, (socklen_t)n) : setsockopt(fd, SOL_IPV6, IPV6_DSTOPTS, b, (socklen_t)n);
		free(b);
		if (r < 0) {
			fail_sys(e, ipopt ? "setsockopt(IP_OPTIONS)" : "setsockopt(IPV6_DSTOPTS)", what, errno);
			goto bad;
		}
	}
	if ((src || sport) && bind_to(e, fd, family, src, sport) < 0)
		goto bad;
	struct sockaddr_storage ss;
	unsigned slen;
	if (inet_sockaddr(e, family, dst, (int)dport, &ss, &slen) < 0)
		goto bad;
	char call[160];
	snprintf(call, sizeof(call), "sendmsg(to %s port %d)", dst, (int)dport);
	size_t sent = 0;
	for (size_t i = 0; i < payloads->len; i++) {
		jv *pl = payloads->items[i];
		size_t n = 0;
		uint8_t *data = pl->t == J_STR ? b64_decode(pl->s, pl->slen, &n) : calloc(1, 1);
		int64_t deadline = now_ms() + 1000;
		for (;;) {
			if (sendto(fd, data, n, MSG_NOSIGNAL, (struct sockaddr *)&ss, slen) >= 0)
				break;
			int en = errno;
			if (en == EINTR)
				continue;
			if (en != EAGAIN || now_ms() >= deadline) {
				free(data);
				char w[128];
				snprintf(w, sizeof(w), en == EAGAIN ? "%s (no room for 1000 ms)" : "%s", what);
				fail_sys(e, call, w, en);
				goto bad;
			}
			wait_fd(fd, POLLOUT, (int)(deadline - now_ms()));
		}
		free(data);
		sent++;
	}
	close(fd);
	sb_open(out, '{');
	sb_kint(out, "sent", (long long)sent);
	sb_close(out, '}');
	return 0;
bad:
	close(fd);
	return -1;
}

typedef struct dgram {
	uint8_t *data;
	size_t n;
	char from[64];
	int port;
} dgram;

typedef struct udp_receiver {
	int fd;
	pthread_t thread;
	pthread_mutex_t lock;
	dgram *items;
	size_t n, cap;
	volatile int stop;
	err failure;
} udp_receiver;

static void udp_drain(udp_receiver *r, uint8_t *buf)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t k = recvfrom(r->fd, buf, 65536, MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
		if (k < 0) {
			if (errno != EAGAIN && errno != EINTR && !r->failure.set)
				fail_sys(&r->failure, "recvmsg()", "UDP socket", errno);
			return;
		}
		dgram d = {0};
		d.data = malloc(k ? (size_t)k : 1);
		if (!d.data)
			abort();
		memcpy(d.data, buf, (size_t)k);
		d.n = (size_t)k;
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, d.from, sizeof(d.from));
			d.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, d.from, sizeof(d.from));
			d.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		pthread_mutex_lock(&r->lock);
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 64;
			r->items = realloc(r->items, r->cap * sizeof(dgram));
			if (!r->items)
				abort();
		}
		r->items[r->n++] = d;
		pthread_mutex_unlock(&r->lock);
	}
}

static void *udp_thread(void *arg)
{
	udp_receiver *r = arg;
	uint8_t *buf = malloc(65536);
	if (!buf)
		abort();
	while (!r->stop && !r->failure.set) {
		udp_drain(r, buf);
		wait_fd(r->fd, POLLIN, 10);
	}
	udp_drain(r, buf);
	free(buf);
	return NULL;
}

static void udp_receiver_free(udp_receiver *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->items[i].data);
	free(r->items);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void udp_receiver_close(void *obj)
{
	udp_receiver *r = obj;
	r->stop = 1;
	pthread_join(r->thread, NULL);
	close(r->fd);
	udp_receiver_free(r);
}

static int act_udp_recv_start(const jv *p, sb *out, err *e)
{
	int family;
	const char *addr;
	double port;
	if (get_family(e, "udp.recvStart", p, &family) < 0 || need_str(e, "udp.recvStart", p, "addr", &addr) < 0 ||
	    need_num(e, "udp.recvStart", p, "port", &port) < 0)
		return -1;
	char what[32];
	snprintf(what, sizeof(what), "UDP/IPv%d socket", family);
	int fd = udp_open(e, family, addr, (int)port, what);
	if (fd < 0)
		return -1;
	/* FORCE: root may exceed net.core.rmem_max, so a burst is queued rather than dropped. */
	if (set_int(e, fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)opt_num(p, "rcvbuf", 16 << 20), "SO_RCVBUFFORCE", what) < 0) {
		close(fd);
		return -1;
	}
	udp_receiver *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->fd = fd;
	pthread_mutex_init(&r->lock, NULL);
	if (start_thread(&r->thread, udp_thread, r) != 0) {
		close(fd);
		udp_receiver_free(r);
		return fail(e, "AGENT", "udp.recvStart: could not start the receiver thread");
	}
	char id[40];
	res_add("udp-receiver", "udp-receiver", r, udp_receiver_close, id);
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_close(out, '}');
	return 0;
}

static int act_udp_recv_stop(const jv *p, sb *out, err *e)
{
	const char *id;
	if (need_str(e, "udp.recvStop", p, "id", &id) < 0)
		return -1;
	udp_receiver *r = res_take(e, "udp.recvStop", id, "udp-receiver", "an open UDP receiver");
	if (!r)
		return -1;
	double expect;
	bool has_expect = p_num(p, "expect", &expect);
	int64_t deadline = now_ms() + (int64_t)opt_num(p, "timeoutMs", 2000);
	for (;;) {
		pthread_mutex_lock(&r->lock);
		size_t n = r->n;
		pthread_mutex_unlock(&r->lock);
		if (!has_expect || (double)n >= expect || now_ms() >= deadline || r->failure.set || call_cancelled())
			break;
		sleep_ms(5);
	}
	pause_ms((int64_t)opt_num(p, "settleMs", 100));
	r->stop = 1;
	pthread_join(r->thread, NULL);
	close(r->fd);
	if (r->failure.set) {
		*e = r->failure;
		udp_receiver_free(r);
		return -1;
	}
	sb_open(out, '{');
	sb_key(out, "datagrams");
	sb_open(out, '[');
	for (size_t i = 0; i < r->n; i++) {
		sb_sep(out);
		sb_open(out, '{');
		sb_key(out, "data");
		sb_b64(out, r->items[i].data, r->items[i].n);
		sb_kstr(out, "from", r->items[i].from);
		sb_kint(out, "port", r->items[i].port);
		sb_close(out, '}');
	}
	sb_close(out, ']');
	sb_close(out, '}');
	udp_receiver_free(r);
	return 0;
}

/* ---------------- TCP ---------------- */

static int act_tcp_send(const jv *p, sb *out, err *e)
{
	int family;
	const char *dst;
	double dport;
	if (get_family(e, "tcp.send", p, &family) < 0 || need_str(e, "tcp.send", p, "dst", &dst) < 0 ||
	    need_num(e, "tcp.send", p, "dport", &dport) < 0)
		return -1;
	jv *payloads = jget(p, "payloads");
	if (!payloads || payloads->t != J_ARR)
		return fail(e, "USAGE", "tcp.send: expected an array \"payloads\" in the parameters");
	char what[32];
	snprintf(what, sizeof(what), "TCP/IPv%d socket", family);
	int fd = tcp_open(e, family, opt_str(p, "src"), (int)opt_num(p, "sport", 0), true, what);
	if (fd < 0)
		return -1;
	if (tcp_connect(e, fd, family, dst, (int)dport, 5000, what) < 0) {
		close(fd);
		return -1;
	}
	long long bytes = 0;
	int gap = (int)opt_num(p, "gapMs", 2);
	for (size_t i = 0; i < payloads->len; i++) {
		jv *pl = payloads->items[i];
		size_t n = 0;
		uint8_t *data = pl->t == J_STR ? b64_decode(pl->s, pl->slen, &n) : calloc(1, 1);
		long long k = tcp_send_all(e, fd, data, n, 30000, what);
		free(data);
		if (k < 0) {
			close(fd);
			return -1;
		}
		bytes += k;
		/* The link is idle again once everything is acknowledged: the next send makes its own segment. */
		if (i + 1 < payloads->len) {
			int64_t deadline = now_ms() + 2000;
			int outq = 0;
			while (ioctl(fd, SIOCOUTQ, &outq) == 0 && outq > 0 && now_ms() < deadline)
				sleep_ms(1);
			sleep_ms(gap);
		}
	}
	int sport = local_port(fd);
	tcp_facts t = {0};
	tcp_close_acked_info(fd, 2000, &t);
	sb_open(out, '{');
	sb_kint(out, "sent", (long long)payloads->len);
	sb_kint(out, "bytes", bytes);
	sb_kint(out, "sport", sport);
	tcp_info_put(out, &t);
	sb_close(out, '}');
	return 0;
}

static void held_close(void *obj)
{
	close((int)(intptr_t)obj);
}

static int act_tcp_hold(const jv *p, sb *out, err *e)
{
	int family;
	const char *dst;
	double dport;
	if (get_family(e, "tcp.hold", p, &family) < 0 || need_str(e, "tcp.hold", p, "dst", &dst) < 0 ||
	    need_num(e, "tcp.hold", p, "dport", &dport) < 0)
		return -1;
	char what[32];
	snprintf(what, sizeof(what), "TCP/IPv%d socket", family);
	int fd = tcp_open(e, family, opt_str(p, "src"), (int)opt_num(p, "sport", 0), true, what);
	if (fd < 0)
		return -1;
	if (tcp_connect(e, fd, family, dst, (int)dport, 5000, what) < 0) {
		close(fd);
		return -1;
	}
	char id[40];
	res_add("tcp-held", "tcp-held", (void *)(intptr_t)fd, held_close, id);
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_kint(out, "sport", local_port(fd));
	sb_close(out, '}');
	return 0;
}

static int act_tcp_hold_close(const jv *p, sb *out, err *e)
{
	return res_close_action(p, out, e, "tcp.holdClose", "tcp-held", "a held connection", held_close, "{}");
}

/* The sink: accepts, reads and counts; the data of all connections hashes as one stream, in accept order. */
typedef struct sink_conn {
	int fd;
	bool eof;
	sb held; /* bytes that arrived before this connection's turn in the hash */
} sink_conn;

typedef struct sink {
	int lfd;
	pthread_t thread;
	pthread_mutex_t lock;
	sink_conn *conns;
	size_t n, cap, current;
	sha256 hash;
	long long bytes;
	volatile int stop;
	err failure;
} sink;

static void sink_advance(sink *s)
{
	while (s->current < s->n && s->conns[s->current].eof) {
		s->current++;
		if (s->current < s->n) {
			sink_conn *k = &s->conns[s->current];
			sha256_update(&s->hash, k->held.p, k->held.len);
			sb_free(&k->held);
		}
	}
}

/* Accepts what is pending and reads what is queued; true when nothing more was there. */
static void sink_pass(sink *s, uint8_t *buf, size_t buflen)
{
	pthread_mutex_lock(&s->lock);
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 8;
			s->conns = realloc(s->conns, s->cap * sizeof(sink_conn));
			if (!s->conns)
				abort();
		}
		s->conns[s->n++] = (sink_conn){fd, false, {0}};
	}
	for (size_t i = 0; i < s->n; i++) {
		sink_conn *k = &s->conns[i];
		while (!k->eof) {
			ssize_t got = recv(k->fd, buf, buflen, MSG_DONTWAIT);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (got < 0 && errno != ECONNRESET) {
				if (!s->failure.set)
					fail_sys(&s->failure, "recv()", "TCP connection", errno);
				break;
			}
			/* A reset ends it like EOF: what arrived counts, the hash shows what did not. */
			if (got <= 0) {
				k->eof = true;
				/* FIN acknowledged at once, no FIN back: the socket stays (CLOSE_WAIT) until listenClose, so copies the
				 * sender's retransmissions still have in flight reach it and count in its TCP_INFO. */
				int one = 1;
				if (got < 0 || setsockopt(k->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) < 0) {
					close(k->fd);
					k->fd = -1;
				}
				break;
			}
			s->bytes += got;
			if (i == s->current)
				sha256_update(&s->hash, buf, (size_t)got);
			else
				sb_raw(&k->held, (char *)buf, (size_t)got);
		}
	}
	sink_advance(s);
	pthread_mutex_unlock(&s->lock);
}

static void *sink_thread(void *arg)
{
	sink *s = arg;
	uint8_t *buf = malloc(262144);
	if (!buf)
		abort();
	while (!s->stop) {
		struct pollfd pf[65];
		int np = 0;
		pf[np++] = (struct pollfd){s->lfd, POLLIN, 0};
		pthread_mutex_lock(&s->lock);
		for (size_t i = 0; i < s->n && np < 65; i++)
			if (!s->conns[i].eof)
				pf[np++] = (struct pollfd){s->conns[i].fd, POLLIN, 0};
		pthread_mutex_unlock(&s->lock);
		poll(pf, (nfds_t)np, 50);
		if (!s->stop)
			sink_pass(s, buf, 262144);
	}
	free(buf);
	return NULL;
}

/* The data segments the connections' sockets counted (TCP_INFO data_segs_in, every copy); -1 unless each had one. */
static long long sink_segs_in(sink *s)
{
	long long sum = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n && sum >= 0; i++) {
		tcp_facts t = {0};
		if (s->conns[i].fd < 0 || tcp_info_read(s->conns[i].fd, &t) < 0 || !t.has_data_segs)
			sum = -1;
		else
			sum += t.data_segs_in;
	}
	pthread_mutex_unlock(&s->lock);
	return sum;
}

/* Stops the thread and closes every socket; *segs_in (if given) gets their TCP_INFO data_segs_in summed, -1 unless each had one. */
static void sink_shutdown_counting(sink *s, long long *segs_in)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
	close(s->lfd);
	long long sum = 0;
	for (size_t i = 0; i < s->n; i++) {
		sink_conn *k = &s->conns[i];
		tcp_facts t = {0};
		if (k->fd < 0 || tcp_info_read(k->fd, &t) < 0 || !t.has_data_segs)
			sum = -1;
		else if (sum >= 0)
			sum += t.data_segs_in;
		if (k->fd >= 0)
			close(k->fd);
		k->fd = -1;
		k->eof = true;
	}
	if (segs_in)
		*segs_in = sum;
}

static void sink_shutdown(sink *s)
{
	sink_shutdown_counting(s, NULL);
}

static void sink_free(sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		sb_free(&s->conns[i].held);
	free(s->conns);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void sink_close(void *obj)
{
	sink_shutdown(obj);
	sink_free(obj);
}

int tcp_listen(err *e, int family, const char *addr, int port, const char *what)
{
	int fd = open_inet(e, family, SOCK_STREAM, IPPROTO_TCP, what);
	if (fd < 0)
		return -1;
	if (set_int(e, fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", what) < 0 || bind_to(e, fd, family, addr, port) < 0)
		goto bad;
	if (listen(fd, 64) < 0) {
		fail_sys(e, "listen()", what, errno);
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

static int act_tcp_listen(const jv *p, sb *out, err *e)
{
	int family;
	const char *addr;
	double port;
	if (get_family(e, "tcp.listen", p, &family) < 0 || need_str(e, "tcp.listen", p, "addr", &addr) < 0 ||
	    need_num(e, "tcp.listen", p, "port", &port) < 0)
		return -1;
	char what[32];
	snprintf(what, sizeof(what), "TCP/IPv%d listener", family);
	int fd = tcp_listen(e, family, addr, (int)port, what);
	if (fd < 0)
		return -1;
	sink *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->lfd = fd;
	sha256_init(&s->hash);
	pthread_mutex_init(&s->lock, NULL);
	if (start_thread(&s->thread, sink_thread, s) != 0) {
		close(fd);
		sink_free(s);
		return fail(e, "AGENT", "tcp.listen: could not start the sink thread");
	}
	char id[40];
	res_add("tcp-listener", "tcp-listener", s, sink_close, id);
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_close(out, '}');
	return 0;
}

static int act_tcp_listen_close(const jv *p, sb *out, err *e)
{
	const char *id;
	if (need_str(e, "tcp.listenClose", p, "id", &id) < 0)
		return -1;
	sink *s = res_take(e, "tcp.listenClose", id, "tcp-listener", "an open listener");
	if (!s)
		return -1;
	/* Up to 2 s for every connection (accepted or still queued) to end. */
	int64_t deadline = now_ms() + 2000;
	uint8_t *buf = malloc(262144);
	if (!buf)
		abort();
	for (;;) {
		sink_pass(s, buf, 262144);
		pthread_mutex_lock(&s->lock);
		bool all = true;
		for (size_t i = 0; i < s->n; i++)
			all = all && s->conns[i].eof;
		pthread_mutex_unlock(&s->lock);
		if (s->failure.set || all || now_ms() >= deadline)
			break;
		sleep_ms(5);
	}
	/* The sender's last copies may still be on their way: its count of data segments put out is waited for, a little. */
	long long expect = -1;
	if (jhas(p, "expectSegsIn") && opt_num(p, "expectSegsIn", -1) >= 0)
		expect = (long long)opt_num(p, "expectSegsIn", -1);
	for (int64_t late = now_ms() + LATE_COPY_WAIT_MS; expect >= 0 && !s->failure.set && now_ms() < late;) {
		long long got = sink_segs_in(s);
		if (got < 0 || got >= expect)
			break;
		sink_pass(s, buf, 262144);
		sleep_ms(5);
	}
	free(buf);
	long long segs_in = -1;
	sink_shutdown_counting(s, &segs_in);
	if (s->failure.set) {
		*e = s->failure;
		sink_free(s);
		return -1;
	}
	for (size_t i = s->current + 1; i < s->n; i++)
		sha256_update(&s->hash, s->conns[i].held.p, s->conns[i].held.len);
	char hex[65];
	sha256_hex(&s->hash, hex);
	sb_open(out, '{');
	sb_kint(out, "bytes", s->bytes);
	sb_kint(out, "connections", (long long)s->n);
	sb_kstr(out, "sha256", hex);
	if (segs_in >= 0)
		sb_kint(out, "dataSegsIn", segs_in);
	sb_close(out, '}');
	sink_free(s);
	return 0;
}

const action net_actions[] = {
	{"capture.start", act_capture_start},
	{"capture.stop", act_capture_stop},
	{"packet.send", act_packet_send},
	{"udp.send", act_udp_send},
	{"udp.recvStart", act_udp_recv_start},
	{"udp.recvStop", act_udp_recv_stop},
	{"tcp.send", act_tcp_send},
	{"tcp.hold", act_tcp_hold},
	{"tcp.holdClose", act_tcp_hold_close},
	{"tcp.listen", act_tcp_listen},
	{"tcp.listenClose", act_tcp_listen_close},
	{NULL, NULL},
};
