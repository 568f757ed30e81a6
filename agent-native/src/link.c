/*
 * Link actions over rtnetlink (harness/agent/actions/{system,link-mtu,vlan-link}.ts
 * spawn `ip`; the sparc64 guest has no `ip`, so these ask the kernel directly):
 * link.reup, link.setMtu, and 802.1Q sub-interfaces (vlan.add / vlan.del).
 */
#define _GNU_SOURCE
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int link_index(err *e, const char *ifname)
{
	int idx = (int)if_nametoindex(ifname);
	if (!idx) {
		char call[64];
		snprintf(call, sizeof(call), "if_nametoindex(\"%s\")", ifname);
		return fail_sys(e, call, NULL, errno);
	}
	return idx;
}

/* "addr/len" (or a bare address: a host route's length) into its parts. */
int parse_cidr(err *e, const char *action, const char *cidr, int *family, char addr[64], int *prefixlen)
{
	const char *slash = strchr(cidr, '/');
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (n == 0 || n >= 64)
		return fail(e, "USAGE", "%s: expected an address with prefix length, found \"%s\"", action, cidr);
	memcpy(addr, cidr, n);
	addr[n] = 0;
	*family = strchr(addr, ':') ? 6 : 4;
	char *end = NULL;
	long len = slash ? strtol(slash + 1, &end, 10) : (*family == 4 ? 32 : 128);
	if ((slash && (!*(slash + 1) || *end)) || len < 0 || len > (*family == 4 ? 32 : 128))
		return fail(e, "USAGE", "%s: expected an address with prefix length, found \"%s\"", action, cidr);
	*prefixlen = (int)len;
	return 0;
}

static int act_link_reup(const jv *p, sb *out, err *e)
{
	const char *ifname;
	if (need_str(e, "link.reup", p, "ifname", &ifname) < 0)
		return -1;
	int idx = link_index(e, ifname);
	/* Down then up: the driver re-initialises its rings, what a user does first when a port stops passing traffic. */
	if (idx < 0 || nl_set_updown(e, idx, false) < 0 || nl_set_updown(e, idx, true) < 0)
		return -1;
	sb_puts(out, "{}");
	return 0;
}

static int act_link_set_mtu(const jv *p, sb *out, err *e)
{
	const char *ifname;
	double mtu;
	if (need_str(e, "link.setMtu", p, "ifname", &ifname) < 0 || need_num(e, "link.setMtu", p, "mtu", &mtu) < 0)
		return -1;
	int idx = link_index(e, ifname);
	link_brief before;
	if (idx < 0 || nl_link_get(e, idx, &before) < 0 || nl_set_mtu(e, idx, (int)mtu) < 0)
		return -1;
	sb_open(out, '{');
	sb_kint(out, "previous", before.mtu);
	sb_close(out, '}');
	return 0;
}

/* ---------------- 802.1Q sub-interfaces ---------------- */

/* Agent resource: the sub-interface goes when the agent exits without vlan.del. */
static void vlan_close(void *obj)
{
	err e = {0};
	nl_del_link(&e, obj);
	free(obj);
}

/* A kernel without the link type refuses with EOPNOTSUPP: said in iproute2's words, which the checks recognise. */
static void unknown_type(err *e)
{
	if (!strcmp(e->code, "SYSCALL") && e->errnum == EOPNOTSUPP && !strstr(e->msg, "Unknown device type"))
		snprintf(e->msg + strlen(e->msg), sizeof(e->msg) - strlen(e->msg), ": Unknown device type");
}

/* Adds the CIDR addresses of `list` (IPv6 without DAD) and sets the link up. */
static int addresses_up(err *e, const char *action, int idx, const jv *list)
{
	for (size_t i = 0; list && i < list->len; i++) {
		const jv *a = list->items[i];
		if (a->t != J_STR)
			return fail(e, "USAGE", "%s: expected addresses as strings", action);
		int family, plen;
		char addr[64];
		if (parse_cidr(e, action, a->s, &family, addr, &plen) < 0 || nl_add_addr(e, idx, family, addr, plen, family == 6) < 0)
			return -1;
	}
	return nl_set_updown(e, idx, true);
}

static int act_vlan_add(const jv *p, sb *out, err *e)
{
	const char *parent, *name;
	double vid;
	if (need_str(e, "vlan.add", p, "parent", &parent) < 0 || need_str(e, "vlan.add", p, "name", &name) < 0 ||
	    need_num(e, "vlan.add", p, "vid", &vid) < 0)
		return -1;
	const char *proto = opt_str(p, "protocol");
	if (!proto)
		proto = "802.1Q";
	if (strcmp(proto, "802.1Q") && strcmp(proto, "802.1ad"))
		return fail(e, "USAGE", "vlan.add: expected protocol 802.1Q or 802.1ad, found \"%s\"", proto);
	if (strlen(name) >= IFNAMSIZ)
		return fail(e, "USAGE", "vlan.add: expected an interface name of at most %d characters, found \"%s\"", IFNAMSIZ - 1, name);
	const jv *addrs = jget(p, "addresses");
	if (addrs && addrs->t != J_ARR)
		return fail(e, "USAGE", "vlan.add: expected an array \"addresses\" in the parameters");
	int pidx = link_index(e, parent);
	if (pidx < 0)
		return -1;
	nl_msg r;
	nl_link_msg(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	nl_attr_u32(&r.h, IFLA_LINK, (uint32_t)pidx);
	nl_attr_str(&r.h, IFLA_IFNAME, name);
	struct rtattr *info = nl_nest(&r.h, IFLA_LINKINFO);
	nl_attr_str(&r.h, IFLA_INFO_KIND, "vlan");
	struct rtattr *data = nl_nest(&r.h, IFLA_INFO_DATA);
	nl_attr_u16(&r.h, IFLA_VLAN_ID, (uint16_t)vid);
	nl_attr_u16(&r.h, IFLA_VLAN_PROTOCOL, htons(strcmp(proto, "802.1ad") ? 0x8100 : 0x88a8));
	nl_nest_end(&r.h, data);
	nl_nest_end(&r.h, info);
	char call[96];
	snprintf(call, sizeof(call), "RTM_NEWLINK (vlan %s id %d over %s)", name, (int)vid, parent);
	if (nl_talk(e, &r.h, call) < 0) {
		unknown_type(e);
		return -1;
	}
	char id[40];
	res_add("vlan", "vlan", strdup(name), vlan_close, id);
	int idx = link_index(e, name);
	if (idx < 0 || addresses_up(e, "vlan.add", idx, addrs) < 0) {
		void *obj = res_take(&(err){0}, "vlan.add", id, "vlan", "a VLAN link");
		if (obj)
			vlan_close(obj);
		return -1;
	}
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_kstr(out, "ifname", name);
	sb_close(out, '}');
	return 0;
}

static int act_vlan_del(const jv *p, sb *out, err *e)
{
	return res_close_action(p, out, e, "vlan.del", "vlan", "a VLAN link", vlan_close, "{}");
}

const action link_actions[] = {
	{"link.reup", act_link_reup},
	{"link.setMtu", act_link_set_mtu},
	{"vlan.add", act_vlan_add},
	{"vlan.del", act_vlan_del},
	{NULL, NULL},
};
