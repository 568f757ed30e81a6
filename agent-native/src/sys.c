/*
 * System actions: agent.ping, link.info, ethtool.* (SIOCETHTOOL, reported
 * under the names `ethtool --json -k` and `ethtool -S` use), nstat.read (the
 * counters nstat reads, named as it names them), sysctl.get and sysctl.set.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

static int act_ping(const jv *p, sb *out, err *e)
{
	(void)p;
	(void)e;
	struct utsname u;
	uname(&u);
	sb_open(out, '{');
	sb_kint(out, "pid", getpid());
	sb_kstr(out, "kernel", u.release);
	sb_close(out, '}');
	return 0;
}

static int act_link_info(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "link.info", p, "ifname", &ifname) < 0)
		return -1;
	link_info li;
	if (nl_link_info(e, ifname, &li) < 0)
		return -1;
	sb_open(out, '{');
	sb_kstr(out, "ifname", li.ifname);
	sb_kint(out, "ifindex", li.ifindex);
	sb_kstr(out, "mac", li.mac);
	sb_kint(out, "mtu", li.mtu);
	sb_kstr(out, "operstate", li.operstate);
	sb_key(out, "addresses");
	sb_open(out, '[');
	for (int i = 0; i < li.naddrs; i++) {
		sb_sep(out);
		sb_open(out, '{');
		sb_kint(out, "family", li.addrs[i].family);
		sb_kstr(out, "local", li.addrs[i].local);
		sb_kint(out, "prefixlen", li.addrs[i].prefixlen);
		sb_close(out, '}');
	}
	sb_close(out, ']');
	sb_close(out, '}');
	return 0;
}

/* ---------------- SIOCETHTOOL ---------------- */

static int ethtool_ioctl(err *e, const char *ifname, void *cmd, const char *call)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail_sys(e, "socket(AF_INET, SOCK_DGRAM)", NULL, errno);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	int r = ioctl(fd, SIOCETHTOOL, &ifr);
	int en = errno;
	close(fd);
	if (r < 0) {
		char what[64];
		snprintf(what, sizeof(what), "%s", ifname);
		return fail_sys(e, call, what, en);
	}
	return r;
}

/* Strings of a string set (ETH_SS_*): count, then names of ETH_GSTRING_LEN bytes each. */
static char *get_strings(err *e, const char *ifname, int set, unsigned *count)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t data[1];
	} info;
	memset(&info, 0, sizeof(info));
	info.hdr.cmd = ETHTOOL_GSSET_INFO;
	info.hdr.sset_mask = 1ULL << set;
	if (ethtool_ioctl(e, ifname, &info, "ioctl(SIOCETHTOOL, ETHTOOL_GSSET_INFO)") < 0)
		return NULL;
	*count = (info.hdr.sset_mask & (1ULL << set)) ? info.hdr.data[0] : 0;
	struct ethtool_gstrings *gs = calloc(1, sizeof(*gs) + (size_t)*count * ETH_GSTRING_LEN + 1);
	if (!gs)
		abort();
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = (uint32_t)set;
	gs->len = *count;
	if (*count && ethtool_ioctl(e, ifname, gs, "ioctl(SIOCETHTOOL, ETHTOOL_GSTRINGS)") < 0) {
		free(gs);
		return NULL;
	}
	char *names = malloc((size_t)*count * ETH_GSTRING_LEN + 1);
	if (!names)
		abort();
	memcpy(names, gs->data, (size_t)*count * ETH_GSTRING_LEN);
	free(gs);
	return names;
}

static const char *str_at(const char *names, unsigned i, char tmp[ETH_GSTRING_LEN + 1])
{
	memcpy(tmp, names + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
	tmp[ETH_GSTRING_LEN] = 0;
	return tmp;
}

/* ethtool's legacy flags: each shows under its long name and gathers the kernel features its pattern matches. */
static const struct legacy {
	const char *shortname, *longname, *pattern;
} LEGACY[] = {
	{"rx", "rx-checksumming", "rx-checksum"},
	{"tx", "tx-checksumming", "tx-checksum-*"},
	{"sg", "scatter-gather", "tx-scatter-gather*"},
	{"tso", "tcp-segmentation-offload", "tx-tcp*-segmentation"},
	{"ufo", "udp-fragmentation-offload", "tx-udp-fragmentation"},
	{"gso", "generic-segmentation-offload", "tx-generic-segmentation"},
	{"gro", "generic-receive-offload", "rx-gro"},
	{"lro", "large-receive-offload", "rx-lro"},
	{"rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse"},
	{"txvlan", "tx-vlan-offload", "tx-vlan-hw-insert"},
	{"ntuple", "ntuple-filters", "rx-ntuple-filter"},
	{"rxhash", "receive-hashing", "rx-hashing"},
};
#define NLEGACY (sizeof(LEGACY) / sizeof(LEGACY[0]))
#define LEGACY_UFO 4

/* ethtool's pattern match: at most one '*', standing for any run of characters. */
static bool pattern_match(const char *name, const char *pattern)
{
	const char *ast = strchr(pattern, '*');
	if (!ast)
		return !strcmp(name, pattern);
	size_t nl = strlen(name), pl = strlen(pattern), pre = (size_t)(ast - pattern);
	if (nl + 1 < pl || strncmp(name, pattern, pre))
		return false;
	size_t suf = pl - pre - 1;
	return !strcmp(name + nl - suf, ast + 1);
}

typedef struct features {
	unsigned count;
	char *names;
	struct ethtool_gfeatures *g;
} features;

static bool bit(const features *f, unsigned i, int which)
{
	const struct ethtool_get_features_block *b = &f->g->features[i / 32];
	uint32_t w = which == 0 ? b->available : which == 1 ? b->requested : which == 2 ? b->active : b->never_changed;
	return (w >> (i % 32)) & 1;
}

static int get_features(err *e, const char *ifname, features *f)
{
	memset(f, 0, sizeof(*f));
	f->names = get_strings(e, ifname, ETH_SS_FEATURES, &f->count);
	if (!f->names)
		return -1;
	unsigned blocks = (f->count + 31) / 32;
	f->g = calloc(1, sizeof(*f->g) + blocks * sizeof(f->g->features[0]));
	if (!f->g)
		abort();
	f->g->cmd = ETHTOOL_GFEATURES;
	f->g->size = blocks;
	if (ethtool_ioctl(e, ifname, f->g, "ioctl(SIOCETHTOOL, ETHTOOL_GFEATURES)") < 0) {
		free(f->names);
		free(f->g);
		return -1;
	}
	return 0;
}

static void free_features(features *f)
{
	free(f->names);
	free(f->g);
}

static int legacy_of(const char *name)
{
	for (unsigned j = 0; j < NLEGACY; j++)
		if (pattern_match(name, LEGACY[j].pattern))
			return (int)j;
	return -1;
}

static void put_state(sb *out, const char *name, const features *f, unsigned i)
{
	sb_key(out, name);
	sb_open(out, '{');
	sb_kbool(out, "active", bit(f, i, 2));
	/* [fixed]: the device cannot change it (not in hw_features, or never changed). */
	sb_kbool(out, "fixed", !bit(f, i, 0) || bit(f, i, 3));
	sb_kbool(out, "requested", bit(f, i, 1));
	sb_close(out, '}');
}

/* The snapshot `ethtool --json -k` gives, parsed as drivers/ethtool.ts parseFeaturesJson does. */
static void put_snapshot(sb *out, const features *f)
{
	char tmp[ETH_GSTRING_LEN + 1];
	int *flag = malloc((f->count + 1) * sizeof(int));
	if (!flag)
		abort();
	for (unsigned i = 0; i < f->count; i++) {
		const char *name = str_at(f->names, i, tmp);
		flag[i] = *name ? legacy_of(name) : -2;
	}
	sb_open(out, '{');
	for (unsigned j = 0; j < NLEGACY; j++) {
		if (j == LEGACY_UFO)
			continue;
		unsigned match = 0, last = 0;
		bool any = false;
		for (unsigned i = 0; i < f->count; i++)
			if (flag[i] == (int)j) {
				match++;
				last = i;
				any = any || bit(f, i, 2);
			}
		if (match == 1) {
			put_state(out, LEGACY[j].longname, f, last);
			continue;
		}
		/* A group: on when any member is; it has no fixed/requested state of its own. */
		sb_key(out, LEGACY[j].longname);
		sb_open(out, '{');
		sb_kbool(out, "active", any);
		sb_puts(out, ",\"fixed\":null,\"requested\":null");
		sb_close(out, '}');
		for (unsigned i = 0; i < f->count; i++)
			if (flag[i] == (int)j)
				put_state(out, str_at(f->names, i, tmp), f, i);
	}
	for (unsigned i = 0; i < f->count; i++)
		if (flag[i] == -1)
			put_state(out, str_at(f->names, i, tmp), f, i);
	sb_close(out, '}');
	free(flag);
}

static int act_features(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "ethtool.features", p, "ifname", &ifname) < 0)
		return -1;
	features f;
	if (get_features(e, ifname, &f) < 0)
		return -1;
	put_snapshot(out, &f);
	free_features(&f);
	return 0;
}

static int act_set_features(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "ethtool.setFeatures", p, "ifname", &ifname) < 0)
		return -1;
	jv *want = jget(p, "features");
	features f;
	if (get_features(e, ifname, &f) < 0)
		return -1;
	unsigned blocks = (f.count + 31) / 32;
	struct ethtool_sfeatures *s = calloc(1, sizeof(*s) + blocks * sizeof(s->features[0]));
	if (!s)
		abort();
	s->cmd = ETHTOOL_SFEATURES;
	s->size = blocks;
	bool unknown = false, any = false;
	char tmp[ETH_GSTRING_LEN + 1];
	for (size_t k = 0; want && want->t == J_OBJ && k < want->len; k++) {
		const char *key = want->keys[k];
		bool on = want->items[k]->t == J_BOOL ? want->items[k]->b : want->items[k]->n != 0;
		const char *pattern = NULL;
		for (unsigned j = 0; j < NLEGACY; j++)
			if (!strcmp(key, LEGACY[j].shortname) || !strcmp(key, LEGACY[j].longname))
				pattern = LEGACY[j].pattern;
		bool found = false;
		for (unsigned i = 0; i < f.count; i++) {
			const char *name = str_at(f.names, i, tmp);
			if (!*name || !(pattern ? pattern_match(name, pattern) : !strcmp(name, key)))
				continue;
			found = true;
			any = true;
			s->features[i / 32].valid |= 1u << (i % 32);
			if (on)
				s->features[i / 32].requested |= 1u << (i % 32);
			else
				s->features[i / 32].requested &= ~(1u << (i % 32));
		}
		if (!pattern && !found)
			unknown = true;
	}
	/*
	 * Like `ethtool -K`: a name the kernel does not know fails the whole
	 * request; a [fixed] feature is left as it is. The snapshot after tells what took.
	 */
	if (any && !unknown) {
		/* Only bits the device may change: the rest would make the kernel refuse or flag the call. */
		for (unsigned b = 0; b < blocks; b++)
			s->features[b].valid &= f.g->features[b].available;
		err ignored = {0};
		ethtool_ioctl(&ignored, ifname, s, "ioctl(SIOCETHTOOL, ETHTOOL_SFEATURES)");
	}
	free(s);
	free_features(&f);
	if (get_features(e, ifname, &f) < 0)
		return -1;
	put_snapshot(out, &f);
	free_features(&f);
	return 0;
}

static int act_driver(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "ethtool.driver", p, "ifname", &ifname) < 0)
		return -1;
	struct ethtool_drvinfo d;
	memset(&d, 0, sizeof(d));
	d.cmd = ETHTOOL_GDRVINFO;
	if (ethtool_ioctl(e, ifname, &d, "ioctl(SIOCETHTOOL, ETHTOOL_GDRVINFO)") < 0)
		return -1;
	d.driver[sizeof(d.driver) - 1] = d.version[sizeof(d.version) - 1] = 0;
	d.fw_version[sizeof(d.fw_version) - 1] = d.bus_info[sizeof(d.bus_info) - 1] = 0;
	sb_open(out, '{');
	sb_kstr(out, "name", d.driver);
	sb_kstr(out, "version", d.version);
	sb_kstr(out, "firmware", d.fw_version);
	sb_kstr(out, "bus", d.bus_info);
	sb_close(out, '}');
	return 0;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	size_t k = 0;
	while (s[k] && isspace((unsigned char)s[k]))
		k++;
	memmove(s, s + k, n - k + 1);
}

static int act_stats(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "ethtool.stats", p, "ifname", &ifname) < 0)
		return -1;
	unsigned n = 0;
	err ignored = {0};
	/* Drivers without statistics (lo) have none to give: an empty set, not an error. */
	char *names = get_strings(&ignored, ifname, ETH_SS_STATS, &n);
	sb_open(out, '{');
	if (names && n > 0) {
		struct ethtool_stats *st = calloc(1, sizeof(*st) + (size_t)n * sizeof(uint64_t));
		if (!st)
			abort();
		st->cmd = ETHTOOL_GSTATS;
		st->n_stats = n;
		if (ethtool_ioctl(&ignored, ifname, st, "ioctl(SIOCETHTOOL, ETHTOOL_GSTATS)") >= 0) {
			char tmp[ETH_GSTRING_LEN + 1];
			for (unsigned i = 0; i < n && i < st->n_stats; i++) {
				str_at(names, i, tmp);
				trim(tmp);
				/* `ethtool -S` prints "name: value"; a name holding ':' reads back cut there. */
				char *colon = strchr(tmp, ':');
				if (colon) {
					*colon = 0;
					trim(tmp);
				}
				if (!*tmp)
					continue;
				sb_key(out, tmp);
				sb_printf(out, "%llu", (unsigned long long)st->data[i]);
			}
		}
		free(st);
	}
	free(names);
	sb_close(out, '}');
	return 0;
}

/* `ip -s -s -json link` counters, flattened as drivers/ethtool.ts parseLinkStatsJson does (rx_dropped, tx_fifo_errors…). */
static int act_link_stats(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "link.stats", p, "ifname", &ifname) < 0)
		return -1;
	link_info li;
	if (nl_link_info(e, ifname, &li) < 0)
		return -1;
	enum { RXP, TXP, RXB, TXB, RXE, TXE, RXD, TXD, MC, COLL, RXLEN, RXOVER, RXCRC, RXFRAME, RXFIFO, RXMISS, TXABORT, TXCARR, TXFIFO, TXHB, TXWIN, RXCOMP, TXCOMP, RXNOH };
	const uint64_t *v = li.stats;
	sb_open(out, '{');
	sb_key(out, "counters");
	sb_open(out, '{');
	if (li.has_stats) {
		/* The fields and order `ip -s -s` prints; compressed and nohandler only when non-zero, as it does. */
		const struct {
			const char *name;
			int idx;
			bool nonzero;
		} F[] = {{"rx_bytes", RXB, 0},        {"rx_packets", RXP, 0},        {"rx_errors", RXE, 0},        {"rx_dropped", RXD, 0},
			 {"rx_over_errors", RXOVER, 0}, {"rx_multicast", MC, 0},       {"rx_compressed", RXCOMP, 1}, {"rx_length_errors", RXLEN, 0},
			 {"rx_crc_errors", RXCRC, 0},   {"rx_frame_errors", RXFRAME, 0}, {"rx_fifo_errors", RXFIFO, 0}, {"rx_missed_errors", RXMISS, 0},
			 {"rx_nohandler", RXNOH, 1},    {"tx_bytes", TXB, 0},          {"tx_packets", TXP, 0},       {"tx_errors", TXE, 0},
			 {"tx_dropped", TXD, 0},        {"tx_carrier_errors", TXCARR, 0}, {"tx_collisions", COLL, 0}, {"tx_compressed", TXCOMP, 1},
			 {"tx_aborted_errors", TXABORT, 0}, {"tx_fifo_errors", TXFIFO, 0}, {"tx_window_errors", TXWIN, 0}, {"tx_heartbeat_errors", TXHB, 0}};
		for (size_t i = 0; i < sizeof(F) / sizeof(F[0]); i++) {
			if (F[i].nonzero && !v[F[i].idx])
				continue;
			sb_key(out, F[i].name);
			sb_printf(out, "%llu", (unsigned long long)v[F[i].idx]);
		}
		if (li.has_carrier_changes) {
			sb_key(out, "tx_carrier_changes");
			sb_printf(out, "%u", li.carrier_changes);
		}
	}
	sb_close(out, '}');
	sb_key(out, "speedMbps");
	struct ethtool_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cmd = ETHTOOL_GSET;
	err ignored = {0};
	/* Drivers without link settings (lo, ne2k-pci) report none: no speed, not an error. */
	uint32_t speed = opt_bool(p, "speed", false) && ethtool_ioctl(&ignored, ifname, &cmd, "ioctl(SIOCETHTOOL, ETHTOOL_GSET)") >= 0
				 ? ethtool_cmd_speed(&cmd)
				 : 0;
	if (speed == 0 || speed == (uint16_t)-1 || speed == (uint32_t)-1)
		sb_puts(out, "null");
	else
		sb_printf(out, "%u", speed);
	sb_close(out, '}');
	return 0;
}

static char *read_file(const char *path);

/* Waits until the interface's operstate is UP (or UNKNOWN: loopback and some virtual devices) or timeoutMs passed. */
static int act_link_wait(const jv *p, sb *out, err *e)
{
	const char *ifname;
	double timeout;
	if (need_str(e, "link.wait", p, "ifname", &ifname) < 0 || need_num(e, "link.wait", p, "timeoutMs", &timeout) < 0)
		return -1;
	bool ok = *ifname != 0;
	for (const char *c = ifname; *c; c++)
		ok = ok && (isalnum((unsigned char)*c) || strchr("_.:@-", *c));
	if (!ok) {
		sb q = {0};
		sb_jcstr(&q, ifname);
		fail(e, "AGENT", "link.wait: expected an interface name, found %s", q.p);
		sb_free(&q);
		return -1;
	}
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	int64_t start = now_ms();
	for (;;) {
		char *text = read_file(path);
		if (!text)
			return fail(e, "AGENT", "link.wait: could not read %s: %s", path, strerror(errno));
		trim(text);
		for (char *c = text; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		bool up = !strcmp(text, "UP") || !strcmp(text, "UNKNOWN");
		int64_t waited = now_ms() - start;
		if (up || waited >= (int64_t)timeout || call_cancelled()) {
			sb_open(out, '{');
			sb_kbool(out, "up", up);
			sb_kstr(out, "operstate", text);
			sb_kint(out, "waitedMs", waited);
			sb_close(out, '}');
			free(text);
			return 0;
		}
		free(text);
		pause_ms(25);
	}
}

/* zc.packetSockets: /proc/net/packet (taps that force copies) and the interface's index. */
static int act_packet_sockets(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "zc.packetSockets", p, "ifname", &ifname) < 0)
		return -1;
	int idx = (int)if_nametoindex(ifname);
	if (!idx) {
		char call[64];
		snprintf(call, sizeof(call), "if_nametoindex(\"%s\")", ifname);
		return fail_sys(e, call, NULL, errno);
	}
	/* Without CONFIG_PACKET there are no packet sockets at all, so none can tap. */
	char *text = read_file("/proc/net/packet");
	sb_open(out, '{');
	sb_kint(out, "ifindex", idx);
	sb_kstr(out, "text", text ? text : "");
	sb_close(out, '}');
	free(text);
	return 0;
}

/* zc.linkDrops: the interface's drop counters from sysfs; a driver without a counter has no file for it. */
static int act_link_drops(const jv *p, sb *out, err *e)
{
	static const char *K[] = {"tx_packets", "tx_dropped", "tx_errors", "rx_dropped", "rx_missed_errors", "rx_fifo_errors", "rx_errors"};
	const char *ifname;
	if (need_str(e, "zc.linkDrops", p, "ifname", &ifname) < 0)
		return -1;
	sb_open(out, '{');
	for (size_t i = 0; i < sizeof(K) / sizeof(K[0]); i++) {
		char path[160];
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, K[i]);
		char *text = read_file(path);
		if (!text)
			continue;
		sb_key(out, K[i]);
		sb_printf(out, "%llu", strtoull(text, NULL, 10));
		free(text);
	}
	/* The host's input-backlog drops (softnet_stat column 2, hex, a row per CPU), as the Node agent reports them. */
	char *softnet = read_file("/proc/net/softnet_stat");
	if (softnet) {
		unsigned long long dropped = 0;
		for (char *line = softnet; line && *line;) {
			char *next = strchr(line, '\n');
			unsigned long long processed, drop;
			if (sscanf(line, "%llx %llx", &processed, &drop) == 2)
				dropped += drop;
			line = next ? next + 1 : NULL;
		}
		free(softnet);
		sb_key(out, "softnet_dropped");
		sb_printf(out, "%llu", dropped);
	}
	sb_close(out, '}');
	return 0;
}

/*
 * capture.stop's dropsFrom: the most any counter named in `before` rose since (driver counters by their
 * `ethtool -S` names, link counters as "link.NAME"), as the Node agent's sideCounters reads them; one drop is often
 * counted twice (ethtool -S and ip -s link), so the largest rise, not the sum.
 */
long long drops_since(const jv *drops)
{
	jv *before = jget(drops, "before");
	if (!before || before->t != J_OBJ || !jget(drops, "ifname"))
		return 0;
	sb st = {0}, ln = {0};
	err ignored = {0};
	if (act_stats(drops, &st, &ignored) < 0)
		sb_raw(&st, "{}", 2);
	memset(&ignored, 0, sizeof(ignored));
	if (act_link_stats(drops, &ln, &ignored) < 0)
		sb_raw(&ln, "{}", 2);
	jv *driver = json_parse(st.p, st.len);
	jv *link = json_parse(ln.p, ln.len);
	jv *counters = link ? jget(link, "counters") : NULL;
	long long most = 0;
	for (size_t i = 0; i < before->len; i++) {
		const char *k = before->keys[i];
		jv *now = strncmp(k, "link.", 5) == 0 ? (counters ? jget(counters, k + 5) : NULL) : (driver ? jget(driver, k) : NULL);
		if (now && now->t == J_NUM && before->items[i]->t == J_NUM && now->n - before->items[i]->n > (double)most)
			most = (long long)(now->n - before->items[i]->n);
	}
	json_free(driver);
	json_free(link);
	sb_free(&st);
	sb_free(&ln);
	return most;
}

/* ---------------- nstat ---------------- */

static char *read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	sb b = {0};
	char tmp[8192];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb_raw(&b, tmp, (size_t)n);
	}
	close(fd);
	if (!b.p)
		sb_raw(&b, "", 0);
	return b.p;
}

/* nstat leaves these out: settings and gauges, not counters. */
static bool useless(const char *name)
{
	static const char *U[] = {"IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax", "TcpMaxConn", "TcpCurrEstab"};
	for (size_t i = 0; i < sizeof(U) / sizeof(U[0]); i++)
		if (!strcmp(name, U[i]))
			return true;
	return false;
}

static void put_counter(sb *out, const char *name, const char *value)
{
	if (useless(name))
		return;
	sb_key(out, name);
	/* nstat reads counters as unsigned 64-bit numbers. */
	sb_printf(out, "%llu", strtoull(value, NULL, 10));
}

/* "Prefix: Name1 Name2" then "Prefix: v1 v2": names Prefix+Name (/proc/net/snmp, /proc/net/netstat). */
static void ugly_table(sb *out, const char *path)
{
	char *text = read_file(path);
	if (!text)
		return;
	char *save = NULL;
	char *hdr = strtok_r(text, "\n", &save);
	while (hdr) {
		char *vals = strtok_r(NULL, "\n", &save);
		if (!vals)
			break;
		char *hc = strchr(hdr, ':'), *vc = strchr(vals, ':');
		if (hc && vc) {
			*hc = 0;
			char *hs = NULL, *vs = NULL;
			char *h = strtok_r(hc + 1, " ", &hs), *v = strtok_r(vc + 1, " ", &vs);
			while (h && v) {
				char name[128];
				snprintf(name, sizeof(name), "%s%s", hdr, h);
				put_counter(out, name, v);
				h = strtok_r(NULL, " ", &hs);
				v = strtok_r(NULL, " ", &vs);
			}
		}
		hdr = strtok_r(NULL, "\n", &save);
	}
	free(text);
}

/* "Name value" per line (/proc/net/snmp6, /proc/net/sctp/snmp). */
static void good_table(sb *out, const char *path)
{
	char *text = read_file(path);
	if (!text)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], value[64];
		if (sscanf(line, "%127s %63s", name, value) == 2)
			put_counter(out, name, value);
	}
	free(text);
}

static int act_nstat(const jv *p, sb *out, err *e)
{
	(void)p;
	(void)e;
	sb_open(out, '{');
	ugly_table(out, "/proc/net/netstat");
	ugly_table(out, "/proc/net/snmp");
	good_table(out, "/proc/net/snmp6");
	good_table(out, "/proc/net/sctp/snmp");
	sb_close(out, '}');
	return 0;
}

/* ---------------- sysctl ---------------- */

static bool sysctl_name_ok(const char *name)
{
	/* Dotted names only: no path can leave /proc/sys. */
	int parts = 1;
	size_t run = 0;
	for (const char *c = name; *c; c++) {
		if (*c == '.') {
			if (run == 0)
				return false;
			parts++;
			run = 0;
			continue;
		}
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			return false;
		run++;
	}
	return run > 0 && parts >= 2;
}

/* The /proc/sys file of a dotted name into `path`; -1 (USAGE) when the name could leave /proc/sys. */
static int sysctl_path(const char *act, const char *name, char *path, size_t size, err *e)
{
	if (!sysctl_name_ok(name)) {
		sb q = {0};
		sb_jcstr(&q, name);
		fail(e, "USAGE", "%s: expected a dotted sysctl name like net.ipv4.ipfrag_time, found %s", act, q.p);
		sb_free(&q);
		return -1;
	}
	snprintf(path, size, "/proc/sys/%s", name);
	for (char *c = path + 10; *c; c++)
		if (*c == '.')
			*c = '/';
	return 0;
}

static int act_sysctl_get(const jv *p, sb *out, err *e)
{
	const char *name;
	char path[512];
	if (need_str(e, "sysctl.get", p, "name", &name) < 0 || sysctl_path("sysctl.get", name, path, sizeof(path), e) < 0)
		return -1;
	char *value = read_file(path);
	if (!value)
		return fail(e, "AGENT", "sysctl.get: could not read %s (%s): %s", name, path, strerror(errno));
	trim(value);
	sb_open(out, '{');
	sb_kstr(out, "value", value);
	sb_close(out, '}');
	free(value);
	return 0;
}

static int act_sysctl_set(const jv *p, sb *out, err *e)
{
	const char *name, *value;
	char path[512];
	if (need_str(e, "sysctl.set", p, "name", &name) < 0 || need_str(e, "sysctl.set", p, "value", &value) < 0 ||
	    sysctl_path("sysctl.set", name, path, sizeof(path), e) < 0)
		return -1;
	char *prev = read_file(path);
	if (!prev)
		return fail(e, "AGENT", "sysctl.set: could not set %s (%s) to %s: %s", name, path, value, strerror(errno));
	trim(prev);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	sb line = {0};
	sb_puts(&line, value);
	sb_puts(&line, "\n");
	if (fd < 0 || write(fd, line.p, line.len) < 0) {
		int en = errno;
		if (fd >= 0)
			close(fd);
		sb_free(&line);
		free(prev);
		return fail(e, "AGENT", "sysctl.set: could not set %s (%s) to %s: %s", name, path, value, strerror(en));
	}
	close(fd);
	sb_free(&line);
	sb_open(out, '{');
	sb_kstr(out, "previous", prev);
	sb_close(out, '}');
	free(prev);
	return 0;
}

const action sys_actions[] = {
	{"agent.ping", act_ping},
	{"link.info", act_link_info},
	{"ethtool.features", act_features},
	{"ethtool.setFeatures", act_set_features},
	{"ethtool.driver", act_driver},
	{"ethtool.stats", act_stats},
	{"link.stats", act_link_stats},
	{"link.wait", act_link_wait},
	{"zc.packetSockets", act_packet_sockets},
	{"zc.linkDrops", act_link_drops},
	{"nstat.read", act_nstat},
	{"sysctl.get", act_sysctl_get},
	{"sysctl.set", act_sysctl_set},
	{NULL, NULL},
};
