/*
 * sctp.listen / sctp.close (harness/agent/actions/sctp.ts, harness/sys/sctp.ts):
 * a kernel SCTP endpoint, one-to-one style (SOCK_STREAM, IPPROTO_SCTP). The
 * kernel answers INITs with INIT ACKs on its own; nothing needs accepting, and
 * the checks count what arrived from the kernel's SCTP counters (nstat.read).
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

/* The fd boxed: a resource object is never NULL, and fd 0 may be a socket in the guest. */
static void sctp_close(void *obj)
{
	close(*(int *)obj);
	free(obj);
}

static int act_sctp_listen(const jv *p, sb *out, err *e)
{
	int family;
	const char *addr;
	double port;
	if (get_family(e, "sctp.listen", p, &family) < 0 || need_str(e, "sctp.listen", p, "addr", &addr) < 0 ||
	    need_num(e, "sctp.listen", p, "port", &port) < 0)
		return -1;
	char what[32];
	snprintf(what, sizeof(what), "SCTP/IPv%d listener", family);
	int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP);
	if (fd < 0) {
		/* A kernel without SCTP: a fact about the kernel, not a failure of the device. */
		if (errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT) {
			sb_open(out, '{');
			sb_kstr(out, "missingModule", "sctp");
			sb_close(out, '}');
			return 0;
		}
		return fail_sys(e, family == 4 ? "socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)" : "socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP)", what,
				errno);
	}
	struct sockaddr_storage ss;
	unsigned slen;
	char call[160];
	snprintf(call, sizeof(call), "bind(%s port %d)", addr, (int)port);
	if (set_int(e, fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", what) < 0 || inet_sockaddr(e, family, addr, (int)port, &ss, &slen) < 0)
		goto bad;
	if (bind(fd, (struct sockaddr *)&ss, slen) < 0) {
		fail_sys(e, call, what, errno);
		goto bad;
	}
	if (listen(fd, 64) < 0) {
		fail_sys(e, "listen()", what, errno);
		goto bad;
	}
	char id[40];
	int *box = malloc(sizeof(int));
	if (!box)
		abort();
	*box = fd;
	res_add("sctp-listener", "sctp-listener", box, sctp_close, id);
	sb_open(out, '{');
	sb_kstr(out, "id", id);
	sb_close(out, '}');
	return 0;
bad:
	close(fd);
	return -1;
}

static int act_sctp_close(const jv *p, sb *out, err *e)
{
	return res_close_action(p, out, e, "sctp.close", "sctp-listener", "an open SCTP listener", sctp_close, "{}");
}

const action sctp_actions[] = {
	{"sctp.listen", act_sctp_listen},
	{"sctp.close", act_sctp_close},
	{NULL, NULL},
};
