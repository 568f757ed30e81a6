/*
 * nicmatrix native agent: the JSON-lines agent protocol of harness/agent/protocol.ts
 * in dependency-free C, for DUTs that cannot run Node (embedded boards, sparc64 guests).
 */
#ifndef NM_AGENT_H
#define NM_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* ---- JSON values (parsed requests) ---- */
enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
	int t;
	bool b;
	double n;
	char *s;            /* J_STR: NUL-terminated (may hold NULs before slen) */
	size_t slen;
	size_t len;         /* J_ARR / J_OBJ element count */
	struct jv **items;
	char **keys;        /* J_OBJ */
} jv;

jv *json_parse(const char *text, size_t len);
void json_free(jv *v);
jv *jget(const jv *obj, const char *key);
bool jhas(const jv *obj, const char *key);

/* ---- string builder (responses) ---- */
typedef struct sb {
	char *p;
	size_t len, cap;
} sb;

void sb_raw(sb *b, const char *s, size_t n);
void sb_puts(sb *b, const char *s);
void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_jstr(sb *b, const char *s, size_t n); /* a JSON string literal */
void sb_jcstr(sb *b, const char *s);
void sb_b64(sb *b, const uint8_t *p, size_t n); /* a JSON string of base64 */
void sb_free(sb *b);
/* Object building: key then value; sb_key adds the comma when needed. */
void sb_key(sb *b, const char *key);
void sb_open(sb *b, char c);  /* '{' or '[' */
void sb_close(sb *b, char c); /* '}' or ']' */
void sb_sep(sb *b);           /* comma before an array element, unless first */
void sb_kint(sb *b, const char *key, long long v);
void sb_kstr(sb *b, const char *key, const char *s);
void sb_kbool(sb *b, const char *key, bool v);

/* ---- errors ---- */
typedef struct err {
	char code[32];
	char msg[512];
	/* SYSCALL errors carry the call and errno. */
	char call[160];
	int errnum;
	bool set;
} err;

int fail(err *e, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "CALL on WHAT: ENAME (strerror)", code SYSCALL; always returns -1. */
int fail_sys(err *e, const char *call, const char *what, int errnum);
const char *errno_name(int errnum);
/* Errors a device (not the harness) causes: the Node agent's DEVICE_ERRNOS. */
bool device_errno(const err *e);

/* ---- params ---- */
bool p_num(const jv *params, const char *key, double *out);
/* Required parameters: fail with USAGE when missing or of the wrong type. */
int need_num(err *e, const char *action, const jv *params, const char *key, double *out);
int need_str(err *e, const char *action, const jv *params, const char *key, const char **out);
const char *opt_str(const jv *params, const char *key);
double opt_num(const jv *params, const char *key, double dflt);
bool opt_bool(const jv *params, const char *key, bool dflt);

/* ---- base64, hashing, time ---- */
uint8_t *b64_decode(const char *s, size_t n, size_t *outlen);
void b64_encode_to(sb *b, const uint8_t *p, size_t n);

typedef struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t buf[64];
	size_t fill;
} sha256;
void sha256_init(sha256 *s);
void sha256_update(sha256 *s, const void *data, size_t n);
void sha256_hex(sha256 *s, char out[65]);

int64_t now_ms(void);      /* CLOCK_MONOTONIC */
int64_t mono_ns(void);
int64_t realtime_ns(void);
void sleep_ms(int64_t ms);
void hex_of(const uint8_t *p, size_t n, char *out); /* out: 2n+1 */

/* ---- resources (open captures, listeners...) ---- */
typedef struct resource {
	char id[40];
	char scope[128]; /* the scope of the call that created it ("" for none) */
	const char *kind;
	void *obj;
	void (*close)(void *obj);
} resource;

void res_add(const char *prefix, const char *kind, void *obj, void (*close)(void *), char out_id[40]);
/* Removes and returns the object of `id` when it is of `kind`; else fails naming what was found. */
void *res_take(err *e, const char *action, const char *id, const char *kind, const char *what);
/* The whole of an action that ends a resource: takes params.id of `kind`, closes it with `close`, answers `result`. */
int res_close_action(const jv *p, sb *out, err *e, const char *action, const char *kind, const char *what, void (*close)(void *),
		     const char *result);
/* Looks up without removing (zc files used by sends). */
void *res_peek(err *e, const char *action, const char *id, const char *kind, const char *what);
/* Removes and returns the first object of `kind` that `match` accepts, or NULL. */
void *res_take_where(const char *kind, bool (*match)(void *obj, const void *arg), const void *arg);
void res_close_all(void);
/* Removes the resources created by calls of `scope` and closes them; returns how many. */
int res_close_scope(const char *scope);
/* Ids of the open resources, as a JSON array. */
void res_ids(sb *out);

/* ---- the call an action runs for (scope, cancellation) ---- */
/* The scope of the current thread's call, or NULL. */
const char *call_scope(void);
/* True once agent.cancel named the current call's scope: waits end early. */
bool call_cancelled(void);
/* sleep_ms that ends early when the call is cancelled. */
void pause_ms(int64_t ms);

/* ---- actions ---- */
typedef int (*action_fn)(const jv *params, sb *out, err *e);
typedef struct action {
	const char *name;
	action_fn fn;
} action;

extern const action sys_actions[];
extern const action net_actions[];
extern const action zc_actions[];
extern const action link_actions[];
extern const action tunnel_actions[];
extern const action stream_actions[];
extern const action sctp_actions[];

/* ---- link helpers (link.c) ---- */
/* if_nametoindex or a SYSCALL error naming the interface. */
int link_index(err *e, const char *ifname);
/* "addr/len" (a bare address: a host route) into family, address text and prefix length. */
int parse_cidr(err *e, const char *action, const char *cidr, int *family, char addr[64], int *prefixlen);

/* ---- socket helpers ---- */
/* The "family" parameter: 4 or 6, else USAGE. */
int get_family(err *e, const char *action, const jv *p, int *family);
int inet_sockaddr(err *e, int family, const char *text, int port, void *sa, unsigned *salen);
int set_int(err *e, int fd, int level, int opt, int v, const char *name, const char *what);
/* poll() one fd for `events` up to `ms`; returns revents (0 on time-out). */
int wait_fd(int fd, short events, int ms);
int tcp_open(err *e, int family, const char *src, int sport, bool nodelay, const char *what);
int tcp_connect(err *e, int fd, int family, const char *dst, int port, int timeout_ms, const char *what);
/* Writes all of data; EAGAIN waits up to timeout_ms. Returns bytes or -1. */
long long tcp_send_all(err *e, int fd, const uint8_t *data, size_t n, int timeout_ms, const char *what);
/* What TCP_INFO says of a connection: the fields the checks judge (the Node agent's TcpStats). */
typedef struct tcp_facts {
	bool valid, has_data_segs, has_dsack;
	unsigned total_retrans, snd_mss, data_segs_in, data_segs_out, dsack_dups;
} tcp_facts;
int tcp_info_read(int fd, tcp_facts *t);
/* How long a receiver waits, after the stream's end, for the sender's last copies to be counted (the Node agent's too). */
#define LATE_COPY_WAIT_MS 1000
/* Adds "tcp": {...} to an object being built (nothing when *t was never read). */
void tcp_info_put(sb *out, const tcp_facts *t);
/* The same facts under another key (a second connection's). */
void tcp_info_put_as(sb *out, const char *key, const tcp_facts *t);
void tcp_close_acked_info(int fd, int timeout_ms, tcp_facts *t);
/* capture.stop's dropsFrom {ifname, before}: the largest rise of the named driver/link counters since `before`. */
long long drops_since(const jv *drops);
int local_port(int fd);
int tcp_listen(err *e, int family, const char *addr, int port, const char *what);

/* ---- the zc pattern (harness/checks/zc/pattern.ts) ---- */
#define ZC_PERIOD 1048573u
#define ZC_PAGE 4096u
#define ZC_GENERATIONS 32
#define ZC_POISON (ZC_GENERATIONS - 1)
extern uint8_t zc_gen_keys[ZC_GENERATIONS];
extern int8_t zc_gen_of[256];
void zc_pattern_init(void);

typedef struct zc_layout {
	uint32_t seed;
	uint64_t size;
	size_t nholes;
	uint64_t (*holes)[2];
} zc_layout;

int parse_layout(err *e, const char *action, const jv *v, zc_layout *out);
void layout_free(zc_layout *l);
void fill_base(uint8_t *dst, size_t n, uint32_t seed, uint64_t offset);
void fill_generation(uint8_t *dst, size_t n, uint32_t seed, uint64_t offset, int gen);
void fill_file(uint8_t *dst, size_t n, const zc_layout *l, uint64_t offset);

typedef struct rng {
	uint32_t state;
} rng;
void rng_init(rng *r, double seed);
uint32_t rng_u32(rng *r);
double rng_float(rng *r);
bool rng_bool(rng *r, double p);

/* ---- netlink (link.info, guest init) ---- */
typedef struct ifaddr_info {
	int family;
	char local[64];
	int prefixlen;
} ifaddr_info;
typedef struct link_info {
	char ifname[32];
	int ifindex;
	char mac[64];
	int mtu;
	/* IFLA_STATS64 and IFLA_CARRIER_CHANGES (link.stats). */
	bool has_stats;
	uint64_t stats[24];
	bool has_carrier_changes;
	uint32_t carrier_changes;
	char operstate[24];
	ifaddr_info addrs[32];
	int naddrs;
} link_info;
int nl_link_info(err *e, const char *ifname, link_info *out);
int nl_set_name(err *e, int ifindex, const char *name);
int nl_set_up(err *e, int ifindex);
int nl_add_addr(err *e, int ifindex, int family, const char *addr, int prefixlen, bool nodad);
int nl_set_neigh(err *e, int ifindex, int family, const char *addr, const char *mac);
int nl_set_updown(err *e, int ifindex, bool up);
int nl_set_mtu(err *e, int ifindex, int mtu);
int nl_set_mac(err *e, int ifindex, const char *mac);
int nl_del_link(err *e, const char *ifname);
typedef struct link_brief {
	int type; /* ARPHRD_* */
	uint32_t mtu;
	uint8_t addr[32];
	size_t alen;
} link_brief;
int nl_link_get(err *e, int ifindex, link_brief *out);

/* Building rtnetlink requests (the link actions create VLANs and tunnels). */
typedef struct nl_msg {
	struct nlmsghdr h;
	char buf[2048];
} nl_msg;
void nl_link_msg(nl_msg *r, int type, int flags, int ifindex); /* an ifinfomsg request */
void nl_attr(struct nlmsghdr *h, int type, const void *data, size_t len);
void nl_attr_u8(struct nlmsghdr *h, int type, uint8_t v);
void nl_attr_u16(struct nlmsghdr *h, int type, uint16_t v);
void nl_attr_u32(struct nlmsghdr *h, int type, uint32_t v);
void nl_attr_str(struct nlmsghdr *h, int type, const char *s);
struct rtattr *nl_nest(struct nlmsghdr *h, int type);
void nl_nest_end(struct nlmsghdr *h, struct rtattr *a);
int nl_talk(err *e, struct nlmsghdr *h, const char *call);

/* guest init (PID 1 of the sparc64 image) */
int guest_init_main(int argc, char **argv);
int serve(int in_fd, int out_fd);
/* serve() on a virtio-serial port: non-blocking, polled with a time-out. */
int serve_port(int fd);

#endif
