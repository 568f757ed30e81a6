/*
 * tunnel.add / tunnel.del (harness/agent/actions/tunnel.ts) over rtnetlink:
 * a VXLAN, GENEVE, GRE or ip6gre device with the attributes `ip link add`
 * sends for the Node agent's arguments, inner addresses and pinned
 * neighbours. A kernel without the tunnel type answers `missingModule`.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip6_tunnel.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823
#endif

static const char *const KINDS[][2] = {{"vxlan", "vxlan"}, {"geneve", "geneve"}, {"gre", "ip_gre"}, {"ip6gre", "ip6_gre"}};

static void tunnel_close(void *obj)
{
	err e = {0};
	nl_del_link(&e, obj);
	free(obj);
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 15)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
			return false;
	return true;
}

/* An outer address: its bytes and family. */
static int outer_addr(err *e, const char *text, uint8_t bin[16], int *family)
{
	*family = strchr(text, ':') ? 6 : 4;
	if (inet_pton(*family == 6 ? AF_INET6 : AF_INET, text, bin) != 1)
		return fail(e, "USAGE", "tunnel.add: expected an IPv%d address, found \"%s\"", *family, text);
	return 0;
}

/* The RTM_NEWLINK of `ip link add IFNAME type KIND ...` as tunnel.ts builds its arguments. */
static int build(err *e, const jv *p, const char *kind, const char *ifname, nl_msg *r)
{
	const char *local, *remote;
	if (need_str(e, "tunnel.add", p, "local", &local) < 0 || need_str(e, "tunnel.add", p, "remote", &remote) < 0)
		return -1;
	uint8_t lo[16], re[16];
	int lf, rf;
	if (outer_addr(e, local, lo, &lf) < 0 || outer_addr(e, remote, re, &rf) < 0)
		return -1;
	bool v6 = lf == 6;
	size_t alen = v6 ? 16 : 4;
	nl_link_msg(r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	nl_attr_str(&r->h, IFLA_IFNAME, ifname);
	struct rtattr *info = nl_nest(&r->h, IFLA_LINKINFO);
	nl_attr_str(&r->h, IFLA_INFO_KIND, kind);
	struct rtattr *data = nl_nest(&r->h, IFLA_INFO_DATA);
	bool udp_csum = opt_bool(p, "udpCsum", true);
	if (!strcmp(kind, "vxlan")) {
		const char *underlay;
		if (need_str(e, "tunnel.add", p, "underlay", &underlay) < 0)
			return -1;
		int uidx = link_index(e, underlay);
		if (uidx < 0)
			return -1;
		nl_attr_u32(&r->h, IFLA_VXLAN_ID, (uint32_t)opt_num(p, "vni", 1));
		nl_attr(&r->h, v6 ? IFLA_VXLAN_GROUP6 : IFLA_VXLAN_GROUP, re, alen);
		nl_attr(&r->h, v6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, lo, alen);
		nl_attr_u32(&r->h, IFLA_VXLAN_LINK, (uint32_t)uidx);
		nl_attr_u16(&r->h, IFLA_VXLAN_PORT, htons(4789));
		/* A zero IPv6 checksum must be accepted by the receiver on purpose (RFC 6935/6936). */
		if (v6) {
			nl_attr_u8(&r->h, IFLA_VXLAN_UDP_ZERO_CSUM6_TX, !udp_csum);
			nl_attr_u8(&r->h, IFLA_VXLAN_UDP_ZERO_CSUM6_RX, 1);
		} else {
			nl_attr_u8(&r->h, IFLA_VXLAN_UDP_CSUM, udp_csum);
		}
	} else if (!strcmp(kind, "geneve")) {
		nl_attr_u32(&r->h, IFLA_GENEVE_ID, (uint32_t)opt_num(p, "vni", 1));
		nl_attr(&r->h, v6 ? IFLA_GENEVE_REMOTE6 : IFLA_GENEVE_REMOTE, re, alen);
		if (v6) {
			nl_attr_u8(&r->h, IFLA_GENEVE_UDP_ZERO_CSUM6_TX, !udp_csum);
			nl_attr_u8(&r->h, IFLA_GENEVE_UDP_ZERO_CSUM6_RX, 1);
		} else {
			nl_attr_u8(&r->h, IFLA_GENEVE_UDP_CSUM, udp_csum);
		}
	} else {
		uint16_t flags = opt_bool(p, "greCsum", false) ? GRE_CSUM : 0;
		nl_attr(&r->h, IFLA_GRE_LOCAL, lo, alen);
		nl_attr(&r->h, IFLA_GRE_REMOTE, re, alen);
		nl_attr_u8(&r->h, IFLA_GRE_TTL, 64);
		nl_attr(&r->h, IFLA_GRE_IFLAGS, &flags, 2);
		nl_attr(&r->h, IFLA_GRE_OFLAGS, &flags, 2);
		if (!strcmp(kind, "gre")) {
			nl_attr_u8(&r->h, IFLA_GRE_PMTUDISC, 1);
		} else {
			/* ip6gre adds an encapsulation-limit destination option by default: keep the outer header plain. */
			nl_attr_u8(&r->h, IFLA_GRE_ENCAP_LIMIT, 4);
			nl_attr_u32(&r->h, IFLA_GRE_FLAGS, IP6_TNL_F_IGN_ENCAP_LIMIT);
		}
	}
	nl_nest_end(&r->h, data);
	nl_nest_end(&r->h, info);
	return 0;
}

/* Best effort, as the Node agent: the tunnel works without these, only quieter with them. */
static void quiet_ipv6(const char *ifname)
{
	static const char *const knobs[] = {"accept_ra", "router_solicitations", "accept_dad"};
	for (size_t i = 0; i < 3; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname, knobs[i]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, "0\n", 2) < 0) {
			/* a knob this kernel lacks is no loss */
		}
		close(fd);
	}
}

/* `ip -json link show`'s "address": dotted for IPv4 tunnels, IPv6 text for IPv6 ones, else hex pairs. */
static void put_address(sb *out, const link_brief *b)
{
	char text[96] = "";
	if (b->alen == 4 && (b->type == ARPHRD_TUNNEL || b->type == ARPHRD_SIT || b->type == ARPHRD_IPGRE))
		inet_ntop(AF_INET, b->addr, text, sizeof(text));
	else if (b->alen == 16 && (b->type == ARPHRD_TUNNEL6 || b->type == ARPHRD_IP6GRE))
		inet_ntop(AF_INET6, b->addr, text, sizeof(text));
	else
		for (size_t i = 0; i < b->alen && i < 32; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%02x", i ? ":" : "", b->addr[i]);
	sb_kstr(out, "mac", text);
}

static int configure(err *e, const jv *p, const char *ifname, sb *out)
{
	quiet_ipv6(ifname);
	int idx = link_index(e, ifname);
	if (idx < 0)
		return -1;
	const char *mac = opt_str(p, "mac");
	if (mac && nl_set_mac(e, idx, mac) < 0)
		return -1;
	const char *inner[2];
	if (need_str(e, "tunnel.add", p, "inner4", &inner[0]) < 0 || need_str(e, "tunnel.add", p, "inner6", &inner[1]) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int family, plen;
		char addr[64];
		if (parse_cidr(e, "tunnel.add", inner[i], &family, addr, &plen) < 0 || nl_add_addr(e, idx, family, addr, plen, i == 1) < 0)
			return -1;
	}
	if (nl_set_updown(e, idx, true) < 0)
		return -1;
	const jv *ns = jget(p, "neighbours");
	for (size_t i = 0; ns && ns->t == J_ARR && i < ns->len; i++) {
		const char *ip = opt_str(ns->items[i], "ip"), *ll = opt_str(ns->items[i], "mac");
		if (!ip || !ll)
			return fail(e, "USAGE", "tunnel.add: expected neighbours as {ip, mac}");
		if (nl_set_neigh(e, idx, strchr(ip, ':') ? 6 : 4, ip, ll) < 0)
			return -1;
	}
	link_brief b;
	if (nl_link_get(e, idx, &b) < 0)
		return -1;
	sb_open(out, '{');
	sb_kstr(out, "ifname", ifname);
	sb_kint(out, "mtu", b.mtu);
	put_address(out, &b);
	sb_close(out, '}');
	return 0;
}

static bool same_name(void *obj, const void *name)
{
	return !strcmp(obj, name);
}

static int act_tunnel_add(const jv *p, sb *out, err *e)
{
	const char *ifname = opt_str(p, "ifname"), *kind;
	if (!ifname || !ifname_ok(ifname)) {
		sb q = {0};
		if (ifname)
			sb_jcstr(&q, ifname);
		fail(e, "USAGE", "tunnel.add: expected an interface name, found %s", ifname ? q.p : "undefined");
		sb_free(&q);
		return -1;
	}
	if (need_str(e, "tunnel.add", p, "kind", &kind) < 0)
		return -1;
	const char *module = NULL;
	for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
		if (!strcmp(kind, KINDS[i][0]))
			module = KINDS[i][1];
	if (!module)
		return fail(e, "USAGE", "tunnel.add: expected kind vxlan, geneve, gre or ip6gre, found \"%s\"", kind);
	nl_msg r;
	if (build(e, p, kind, ifname, &r) < 0)
		return -1;
	char call[96];
	snprintf(call, sizeof(call), "RTM_NEWLINK (%s %s)", kind, ifname);
	if (nl_talk(e, &r.h, call) < 0) {
		/* The refusals `ip` words as "Unknown device type", "... not supported" or "No such device". */
		int n = e->errnum;
		if (n == EOPNOTSUPP || n == EPROTONOSUPPORT || n == EAFNOSUPPORT || n == ENODEV) {
			*e = (err){0};
			sb_open(out, '{');
			sb_kstr(out, "missingModule", module);
			sb_close(out, '}');
			return 0;
		}
		char why[sizeof(e->msg)];
		snprintf(why, sizeof(why), "%s", e->msg);
		return fail(e, "AGENT", "tunnel.add: %s", why);
	}
	char id[40];
	res_add("tunnel", "tunnel", strdup(ifname), tunnel_close, id);
	if (configure(e, p, ifname, out) < 0) {
		err ignored = {0};
		nl_del_link(&ignored, ifname);
		free(res_take_where("tunnel", same_name, ifname));
		return -1;
	}
	return 0;
}

static int act_tunnel_del(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "tunnel.del", p, "ifname", &ifname) < 0)
		return -1;
	err ignored = {0};
	nl_del_link(&ignored, ifname);
	void *obj;
	while ((obj = res_take_where("tunnel", same_name, ifname)))
		free(obj);
	sb_puts(out, "{}");
	return 0;
}

const action tunnel_actions[] = {
	{"tunnel.add", act_tunnel_add},
	{"tunnel.del", act_tunnel_del},
	{NULL, NULL},
};
