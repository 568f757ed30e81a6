/* rtnetlink: what `ip -json addr show`, `ip link add/set/del`, `ip addr add` and `ip neigh replace` do, for the link actions and the guest init. */
#define _GNU_SOURCE
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef nl_msg nlreq;

void nl_attr(struct nlmsghdr *h, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

void nl_attr_u8(struct nlmsghdr *h, int type, uint8_t v)
{
	nl_attr(h, type, &v, 1);
}

void nl_attr_u16(struct nlmsghdr *h, int type, uint16_t v)
{
	nl_attr(h, type, &v, 2);
}

void nl_attr_u32(struct nlmsghdr *h, int type, uint32_t v)
{
	nl_attr(h, type, &v, 4);
}

void nl_attr_str(struct nlmsghdr *h, int type, const char *s)
{
	nl_attr(h, type, s, strlen(s) + 1);
}

struct rtattr *nl_nest(struct nlmsghdr *h, int type)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	nl_attr(h, type, NULL, 0);
	return a;
}

void nl_nest_end(struct nlmsghdr *h, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

void nl_link_msg(nl_msg *r, int type, int flags, int ifindex)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r->h.nlmsg_type = (unsigned short)type;
	r->h.nlmsg_flags = (unsigned short)flags;
	((struct ifinfomsg *)NLMSG_DATA(&r->h))->ifi_index = ifindex;
}

/* The kernel's own words on a refused request (extended ACK), when it gave them. */
static void extack_text(struct nlmsghdr *r, char *out, size_t cap)
{
	out[0] = 0;
	if (!(r->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	struct nlmsgerr *me = NLMSG_DATA(r);
	size_t off = sizeof(*me);
	/* Without NLM_F_CAPPED the whole refused request is echoed before the attributes. */
	if (!(r->nlmsg_flags & NLM_F_CAPPED))
		off += me->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + off >= r->nlmsg_len)
		return;
	int len = (int)(r->nlmsg_len - NLMSG_HDRLEN - off);
	for (struct rtattr *a = (struct rtattr *)((char *)me + off); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == NLMSGERR_ATTR_MSG) {
			snprintf(out, cap, "%.*s", (int)RTA_PAYLOAD(a), (char *)RTA_DATA(a));
			size_t n = strlen(out);
			while (n && (out[n - 1] == '\n' || out[n - 1] == 0))
				out[--n] = 0;
			return;
		}
}

static int nl_open(err *e)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return fail_sys(e, "socket(AF_NETLINK)", NULL, errno);
	/* Refusals then carry the kernel's reason ("Unknown device type"); older kernels just ignore this. */
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return fd;
}

/* Sends a request that wants an ACK; fails with the kernel's errno, and its reason when it gave one. */
int nl_talk(err *e, struct nlmsghdr *h, const char *call)
{
	int fd = nl_open(e);
	if (fd < 0)
		return -1;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = 1;
	if (send(fd, h, h->nlmsg_len, 0) < 0) {
		int en = errno;
		close(fd);
		return fail_sys(e, call, "rtnetlink", en);
	}
	char buf[8192];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			int en = errno;
			if (en == EINTR)
				continue;
			close(fd);
			return fail_sys(e, call, "rtnetlink", en);
		}
		for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (unsigned)n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *me = NLMSG_DATA(r);
				close(fd);
				if (me->error == 0)
					return 0;
				char why[256];
				extack_text(r, why, sizeof(why));
				fail_sys(e, call, "rtnetlink", -me->error);
				if (why[0])
					snprintf(e->msg + strlen(e->msg), sizeof(e->msg) - strlen(e->msg), ": %s", why);
				return -1;
			}
		}
	}
}

static const char *operstate_name(int s)
{
	static const char *names[] = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"};
	return s >= 0 && s < 7 ? names[s] : "UNKNOWN";
}

/* One dump request; calls `each` for every message of the answer. */
static int nl_dump(err *e, int type, int family, void (*each)(struct nlmsghdr *, void *), void *ctx)
{
	int fd = nl_open(e);
	if (fd < 0)
		return -1;
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg m;
	} req = {0};
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.m));
	req.h.nlmsg_type = (unsigned short)type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = 2;
	req.m.ifa_family = (unsigned char)family;
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
		int en = errno;
		close(fd);
		return fail_sys(e, "send(RTM_GET dump)", "rtnetlink", en);
	}
	char *buf = malloc(65536);
	for (;;) {
		ssize_t n = recv(fd, buf, 65536, 0);
		if (n < 0) {
			int en = errno;
			if (en == EINTR)
				continue;
			free(buf);
			close(fd);
			return fail_sys(e, "recv(RTM_GET dump)", "rtnetlink", en);
		}
		for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (unsigned)n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_type == NLMSG_DONE) {
				free(buf);
				close(fd);
				return 0;
			}
			if (r->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *me = NLMSG_DATA(r);
				free(buf);
				close(fd);
				return fail_sys(e, "RTM_GET dump", "rtnetlink", -me->error);
			}
			each(r, ctx);
		}
	}
}

static void each_link(struct nlmsghdr *r, void *ctx)
{
	link_info *li = ctx;
	if (r->nlmsg_type != RTM_NEWLINK)
		return;
	struct ifinfomsg *m = NLMSG_DATA(r);
	if (m->ifi_index != li->ifindex)
		return;
	int len = (int)IFLA_PAYLOAD(r);
	for (struct rtattr *a = IFLA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_ADDRESS) {
			unsigned char *p = RTA_DATA(a);
			size_t n = RTA_PAYLOAD(a);
			li->mac[0] = 0;
			for (size_t i = 0; i < n && i < 20; i++)
				snprintf(li->mac + strlen(li->mac), sizeof(li->mac) - strlen(li->mac), "%s%02x", i ? ":" : "", p[i]);
		} else if (a->rta_type == IFLA_MTU) {
			li->mtu = (int)*(unsigned *)RTA_DATA(a);
		} else if (a->rta_type == IFLA_OPERSTATE) {
			snprintf(li->operstate, sizeof(li->operstate), "%s", operstate_name(*(unsigned char *)RTA_DATA(a)));
		} else if (a->rta_type == IFLA_STATS64 && RTA_PAYLOAD(a) >= sizeof(struct rtnl_link_stats64)) {
			/* The attribute is only 4-byte aligned: copy before reading 64-bit fields. */
			struct rtnl_link_stats64 st;
			memcpy(&st, RTA_DATA(a), sizeof(st));
			const uint64_t v[] = {st.rx_packets, st.tx_packets, st.rx_bytes, st.tx_bytes, st.rx_errors, st.tx_errors,
					      st.rx_dropped, st.tx_dropped, st.multicast, st.collisions, st.rx_length_errors, st.rx_over_errors,
					      st.rx_crc_errors, st.rx_frame_errors, st.rx_fifo_errors, st.rx_missed_errors, st.tx_aborted_errors,
					      st.tx_carrier_errors, st.tx_fifo_errors, st.tx_heartbeat_errors, st.tx_window_errors,
					      st.rx_compressed, st.tx_compressed, st.rx_nohandler};
			memcpy(li->stats, v, sizeof(v));
			li->has_stats = true;
		} else if (a->rta_type == IFLA_CARRIER_CHANGES) {
			li->carrier_changes = *(uint32_t *)RTA_DATA(a);
			li->has_carrier_changes = true;
		} else if (a->rta_type == IFLA_IFNAME) {
			snprintf(li->ifname, sizeof(li->ifname), "%s", (char *)RTA_DATA(a));
		}
	}
}

static void each_addr(struct nlmsghdr *r, void *ctx)
{
	link_info *li = ctx;
	if (r->nlmsg_type != RTM_NEWADDR || li->naddrs >= 32)
		return;
	struct ifaddrmsg *m = NLMSG_DATA(r);
	if ((int)m->ifa_index != li->ifindex)
		return;
	int len = (int)IFA_PAYLOAD(r);
	void *local = NULL, *address = NULL;
	for (struct rtattr *a = IFA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFA_LOCAL)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS)
			address = RTA_DATA(a);
	}
	/* `ip` shows IFA_LOCAL as "local" when there is one, else IFA_ADDRESS. */
	void *show = local ? local : address;
	if (!show || (m->ifa_family != AF_INET && m->ifa_family != AF_INET6))
		return;
	ifaddr_info *ai = &li->addrs[li->naddrs++];
	ai->family = m->ifa_family == AF_INET ? 4 : 6;
	inet_ntop(m->ifa_family, show, ai->local, sizeof(ai->local));
	ai->prefixlen = m->ifa_prefixlen;
}

int nl_link_info(err *e, const char *ifname, link_info *out)
{
	memset(out, 0, sizeof(*out));
	out->ifindex = (int)if_nametoindex(ifname);
	if (out->ifindex == 0)
		return fail(e, "TARGET_SETUP", "link.info: interface %s not found", ifname);
	snprintf(out->ifname, sizeof(out->ifname), "%s", ifname);
	snprintf(out->operstate, sizeof(out->operstate), "UNKNOWN");
	if (nl_dump(e, RTM_GETLINK, AF_UNSPEC, each_link, out) < 0)
		return -1;
	return nl_dump(e, RTM_GETADDR, AF_UNSPEC, each_addr, out);
}

int nl_set_name(err *e, int ifindex, const char *name)
{
	nlreq r = {0};
	struct ifinfomsg *m = NLMSG_DATA(&r.h);
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(*m));
	r.h.nlmsg_type = RTM_NEWLINK;
	m->ifi_index = ifindex;
	nl_attr(&r.h, IFLA_IFNAME, name, strlen(name) + 1);
	return nl_talk(e, &r.h, "RTM_NEWLINK (rename)");
}

int nl_set_up(err *e, int ifindex)
{
	return nl_set_updown(e, ifindex, true);
}

int nl_add_addr(err *e, int ifindex, int family, const char *addr, int prefixlen, bool nodad)
{
	nlreq r = {0};
	struct ifaddrmsg *m = NLMSG_DATA(&r.h);
	unsigned char bin[16];
	int af = family == 6 ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, bin) != 1)
		return fail(e, "USAGE", "address %s: expected an IPv%d address", addr, family);
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(*m));
	r.h.nlmsg_type = RTM_NEWADDR;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	m->ifa_family = (unsigned char)af;
	m->ifa_prefixlen = (unsigned char)prefixlen;
	m->ifa_index = (unsigned)ifindex;
	m->ifa_flags = nodad ? IFA_F_NODAD : 0;
	size_t alen = af == AF_INET6 ? 16 : 4;
	nl_attr(&r.h, IFA_LOCAL, bin, alen);
	nl_attr(&r.h, IFA_ADDRESS, bin, alen);
	return nl_talk(e, &r.h, "RTM_NEWADDR");
}

int nl_set_neigh(err *e, int ifindex, int family, const char *addr, const char *mac)
{
	nlreq r = {0};
	struct ndmsg *m = NLMSG_DATA(&r.h);
	unsigned char bin[16], ll[6];
	int af = family == 6 ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, bin) != 1)
		return fail(e, "USAGE", "neighbour %s: expected an IPv%d address", addr, family);
	unsigned v[6];
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return fail(e, "USAGE", "neighbour %s: expected a MAC address, found %s", addr, mac);
	for (int i = 0; i < 6; i++)
		ll[i] = (unsigned char)v[i];
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(*m));
	r.h.nlmsg_type = RTM_NEWNEIGH;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	m->ndm_family = (unsigned char)af;
	m->ndm_ifindex = ifindex;
	m->ndm_state = NUD_PERMANENT;
	nl_attr(&r.h, NDA_DST, bin, af == AF_INET6 ? 16 : 4);
	nl_attr(&r.h, NDA_LLADDR, ll, 6);
	return nl_talk(e, &r.h, "RTM_NEWNEIGH");
}

int nl_set_updown(err *e, int ifindex, bool up)
{
	nlreq r;
	nl_link_msg(&r, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *m = NLMSG_DATA(&r.h);
	m->ifi_flags = up ? IFF_UP : 0;
	m->ifi_change = IFF_UP;
	return nl_talk(e, &r.h, up ? "RTM_NEWLINK (up)" : "RTM_NEWLINK (down)");
}

int nl_set_mtu(err *e, int ifindex, int mtu)
{
	nlreq r;
	nl_link_msg(&r, RTM_NEWLINK, 0, ifindex);
	nl_attr_u32(&r.h, IFLA_MTU, (uint32_t)mtu);
	char call[64];
	snprintf(call, sizeof(call), "RTM_NEWLINK (mtu %d)", mtu);
	return nl_talk(e, &r.h, call);
}

int nl_set_mac(err *e, int ifindex, const char *mac)
{
	unsigned v[6];
	uint8_t ll[6];
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return fail(e, "USAGE", "expected a MAC address, found %s", mac);
	for (int i = 0; i < 6; i++)
		ll[i] = (uint8_t)v[i];
	nlreq r;
	nl_link_msg(&r, RTM_NEWLINK, 0, ifindex);
	nl_attr(&r.h, IFLA_ADDRESS, ll, 6);
	return nl_talk(e, &r.h, "RTM_NEWLINK (address)");
}

int nl_del_link(err *e, const char *ifname)
{
	nlreq r;
	nl_link_msg(&r, RTM_DELLINK, 0, 0);
	nl_attr_str(&r.h, IFLA_IFNAME, ifname);
	char call[64];
	snprintf(call, sizeof(call), "RTM_DELLINK (%s)", ifname);
	return nl_talk(e, &r.h, call);
}

/* Type, MTU and link-layer address of one interface (RTM_GETLINK of its index). */
int nl_link_get(err *e, int ifindex, link_brief *out)
{
	memset(out, 0, sizeof(*out));
	int fd = nl_open(e);
	if (fd < 0)
		return -1;
	nlreq q;
	nl_link_msg(&q, RTM_GETLINK, NLM_F_REQUEST, ifindex);
	q.h.nlmsg_seq = 3;
	if (send(fd, &q, q.h.nlmsg_len, 0) < 0) {
		int en = errno;
		close(fd);
		return fail_sys(e, "send(RTM_GETLINK)", "rtnetlink", en);
	}
	char buf[16384];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
		;
	int en = errno;
	close(fd);
	if (n < 0)
		return fail_sys(e, "recv(RTM_GETLINK)", "rtnetlink", en);
	struct nlmsghdr *r = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(r, (unsigned)n))
		return fail(e, "AGENT", "RTM_GETLINK: a short answer (%zd bytes)", n);
	if (r->nlmsg_type == NLMSG_ERROR)
		return fail_sys(e, "RTM_GETLINK", "rtnetlink", -((struct nlmsgerr *)NLMSG_DATA(r))->error);
	struct ifinfomsg *m = NLMSG_DATA(r);
	out->type = m->ifi_type;
	int len = (int)IFLA_PAYLOAD(r);
	for (struct rtattr *a = IFLA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_MTU)
			memcpy(&out->mtu, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) <= sizeof(out->addr)) {
			out->alen = RTA_PAYLOAD(a);
			memcpy(out->addr, RTA_DATA(a), out->alen);
		}
	}
	return 0;
}
