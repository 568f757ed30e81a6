/*
 * PID 1 of the sparc64 guest image (no shell, no busybox: this binary is the
 * whole userland). Like drivers/qemu/init-script.ts: mounts the pseudo file
 * systems, finds the NIC by the MAC on the command line, says which driver
 * bound on the console, configures addresses and static neighbours, then
 * serves the agent protocol on the virtio-serial port and powers off.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "nicmatrix-init:"

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dprintf(2, "%s %s\n", PREFIX, line);
}

static void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

/* PID 1 must not exit (that panics): powering off ends QEMU, which the controller sees. */
static void failed(const char *fmt, const char *a, const char *b)
{
	char msg[512];
	snprintf(msg, sizeof(msg), fmt, a, b);
	say("FAILED: %s", msg);
	power_off();
}

static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	static char buf[8][4096];
	static int next;
	char *b = buf[next++ % 8];
	ssize_t n = read(fd, b, 4095);
	close(fd);
	if (n < 0)
		n = 0;
	b[n] = 0;
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == ' '))
		b[--n] = 0;
	return b;
}

static void put(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, value, strlen(value)) < 0) {
			/* A sysctl the kernel lacks changes nothing we rely on. */
		}
		close(fd);
	}
}

typedef struct params {
	char mac[32], ifname[16], ip4[64], ip6[80], peer4[64], peer6[80], peermac[32], port[64];
} params;

static void read_params(params *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "eth0");
	snprintf(p->port, sizeof(p->port), "nicmatrix.0");
	char *line = slurp("/proc/cmdline");
	if (!line)
		return;
	static const struct {
		const char *key;
		size_t off, len;
	} K[] = {
		{"nicmatrix.mac=", offsetof(params, mac), sizeof(((params *)0)->mac)},
		{"nicmatrix.ifname=", offsetof(params, ifname), sizeof(((params *)0)->ifname)},
		{"nicmatrix.ip4=", offsetof(params, ip4), sizeof(((params *)0)->ip4)},
		{"nicmatrix.ip6=", offsetof(params, ip6), sizeof(((params *)0)->ip6)},
		{"nicmatrix.peer4=", offsetof(params, peer4), sizeof(((params *)0)->peer4)},
		{"nicmatrix.peer6=", offsetof(params, peer6), sizeof(((params *)0)->peer6)},
		{"nicmatrix.peermac=", offsetof(params, peermac), sizeof(((params *)0)->peermac)},
		{"nicmatrix.port=", offsetof(params, port), sizeof(((params *)0)->port)},
	};
	char *save = NULL;
	for (char *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
		for (size_t i = 0; i < sizeof(K) / sizeof(K[0]); i++)
			if (!strncmp(w, K[i].key, strlen(K[i].key)))
				snprintf((char *)p + K[i].off, K[i].len, "%s", w + strlen(K[i].key));
}

static int split_prefix(char *addr)
{
	char *slash = strchr(addr, '/');
	if (!slash)
		return -1;
	*slash = 0;
	return atoi(slash + 1);
}

static void strip0x(char *s)
{
	if (s && s[0] == '0' && s[1] == 'x')
		memmove(s, s + 2, strlen(s + 2) + 1);
}

int guest_init_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir("/tmp", 01777);
	mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777");
	/* The kernel opened /dev/console for us before devtmpfs: keep using it for the console lines. */
	params p;
	read_params(&p);
	if (!p.mac[0])
		failed("kernel command line lacks nicmatrix.mac%s%s", "", "");
	/* Find the NIC by the MAC QEMU gave it. */
	char ifname[256] = "";
	DIR *d = opendir("/sys/class/net");
	for (struct dirent *de; d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", de->d_name);
		char *mac = slurp(path);
		if (mac && !strcasecmp(mac, p.mac))
			snprintf(ifname, sizeof(ifname), "%s", de->d_name);
	}
	if (d)
		closedir(d);
	if (!ifname[0])
		failed("no network interface has MAC %s: no driver bound to the emulated NIC%s", p.mac, "");
	char dev[300], link[300] = "", path[400];
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	if (!realpath(path, dev))
		dev[0] = 0;
	snprintf(path, sizeof(path), "%s/driver", dev);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	const char *drv = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	char ids[4][32] = {"", "", "", ""};
	const char *files[4] = {"vendor", "device", "subsystem_vendor", "subsystem_device"};
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, files[i]);
		char *v = slurp(path);
		snprintf(ids[i], sizeof(ids[i]), "%s", v ? v : "");
		strip0x(ids[i]);
	}
	err e = {0};
	int idx = (int)if_nametoindex(ifname);
	if (strcmp(ifname, p.ifname) && nl_set_name(&e, idx, p.ifname) < 0)
		failed("could not rename %s: %s", ifname, e.msg);
	const char *bus = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	say("nic ifname=%s bus=%s pci=%s:%s:%s:%s driver=%s", p.ifname, bus, ids[0], ids[1], ids[2], ids[3], drv);
	/* Keep the guest's own chatter (router solicitations) off the wire under test. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", p.ifname);
	put(path, "0");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/router_solicitations", p.ifname);
	put(path, "0");
	int p4 = split_prefix(p.ip4), p6 = split_prefix(p.ip6);
	if (p4 < 0 || nl_add_addr(&e, idx, 4, p.ip4, p4, false) < 0)
		failed("ip addr add %s: %s", p.ip4, e.msg);
	if (p6 < 0 || nl_add_addr(&e, idx, 6, p.ip6, p6, true) < 0)
		failed("ip -6 addr add %s: %s", p.ip6, e.msg);
	if (nl_set_up(&e, idx) < 0)
		failed("ip link set %s up: %s", p.ifname, e.msg);
	if (nl_set_neigh(&e, idx, 4, p.peer4, p.peermac) < 0)
		failed("ip neigh replace %s: %s", p.peer4, e.msg);
	if (nl_set_neigh(&e, idx, 6, p.peer6, p.peermac) < 0)
		failed("ip -6 neigh replace %s: %s", p.peer6, e.msg);
	/* The agent's virtio-serial port, by the name QEMU gave it. */
	char port[400] = "";
	for (int tries = 0; tries < 200 && !port[0]; tries++) {
		DIR *vp = opendir("/sys/class/virtio-ports");
		for (struct dirent *de; vp && (de = readdir(vp));) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
			char *name = slurp(path);
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			if (name && !strcmp(name, p.port) && access(path, R_OK | W_OK) == 0)
				snprintf(port, sizeof(port), "%s", path);
		}
		if (vp)
			closedir(vp);
		if (!port[0])
			sleep_ms(50);
	}
	if (!port[0])
		failed("virtio-serial port %s did not appear%s", p.port, "");
	char *up = slurp("/proc/uptime");
	say("agent starting on %s at uptime %ss", port, up ? strtok(up, " ") : "?");
	int fd = open(port, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		failed("could not open %s: %s", port, strerror(errno));
	int status = serve_port(fd);
	say("agent exited with status %d", status);
	power_off();
	return 0;
}
