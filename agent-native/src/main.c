/*
 * Entry point and request loop: one JSON request a line on the input, one
 * response a line on the output, each request on its own thread (a capture
 * waits while a send runs), like harness/agent/server.ts.
 *   nicmatrix-agent-native            serve on stdin/stdout
 *   nicmatrix-agent-native --port DEV serve on a character device (virtio-serial)
 *   nicmatrix-agent-native --init     PID 1 of the sparc64 guest image (init.c)
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define AGENT_VERSION "nicmatrix-agent-native 1"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pend_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pend_cond = PTHREAD_COND_INITIALIZER;
static int pending;
static int out_fd = 1;

static const action *tables[] = {sys_actions, net_actions, zc_actions, link_actions, tunnel_actions, stream_actions, sctp_actions};

static action_fn find_action(const char *name)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const action *a = tables[t]; a->name; a++)
			if (!strcmp(a->name, name))
				return a->fn;
	return NULL;
}

/*
 * A virtio-serial port is used non-blocking and polled with a time-out: a read or write that would block is
 * retried at least every PORT_POLL_MS, since each try harvests the buffers the host finished with even when
 * the interrupt that should have woken us never came (the sparc64 guest stopped answering without it).
 */
#define PORT_POLL_MS 50
static bool port_polled;
static int port_unwoken;

/* Waits up to PORT_POLL_MS for the port; true when no wakeup came in that time. */
static bool port_wait(int fd, short events)
{
	struct pollfd p = {fd, events, 0};
	return poll(&p, 1, PORT_POLL_MS) == 0;
}

/* A read or write that went through although poll() saw the port not ready: the wakeup was lost (or late). */
static void port_unwoken_note(const char *what)
{
	if (++port_unwoken <= 3)
		fprintf(stderr, "nicmatrix-agent: a virtio-serial %s went through with no wakeup (%d)\n", what, port_unwoken);
}

static void write_line(sb *b)
{
	sb_raw(b, "\n", 1);
	pthread_mutex_lock(&out_lock);
	size_t off = 0;
	bool unwoken = false;
	while (off < b->len) {
		ssize_t n = write(out_fd, b->p + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && port_polled) {
			unwoken = port_wait(out_fd, POLLOUT);
			continue;
		}
		if (n <= 0)
			break; /* the controller went away: nothing left to tell it */
		if (unwoken)
			port_unwoken_note("write");
		unwoken = false;
		off += (size_t)n;
	}
	pthread_mutex_unlock(&out_lock);
}

static void respond_error(long long id, const err *e)
{
	sb b = {0};
	sb_printf(&b, "{\"id\":%lld,\"error\":{", id);
	sb_kstr(&b, "code", e->code);
	sb_kstr(&b, "message", e->msg);
	if (!strcmp(e->code, "SYSCALL") && e->call[0]) {
		sb_key(&b, "details");
		sb_open(&b, '{');
		sb_kstr(&b, "call", e->call);
		sb_kint(&b, "errno", e->errnum);
		sb_kstr(&b, "errnoName", errno_name(e->errnum));
		sb_close(&b, '}');
	}
	sb_puts(&b, "}}");
	write_line(&b);
	sb_free(&b);
}

typedef struct job {
	char *line;
	size_t len;
	/* Set once the request is parsed; the in-flight list holds jobs running an action. */
	long long id;
	char scope[128];
	bool has_scope;
	volatile int cancelled;
	struct job *next;
} job;

/* In-flight actions, for agent.cancel and agent.status. */
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static job *inflight;
static __thread job *current;

const char *call_scope(void)
{
	return current && current->has_scope ? current->scope : NULL;
}

bool call_cancelled(void)
{
	return current && current->cancelled;
}

static void inflight_add(job *j)
{
	pthread_mutex_lock(&inflight_lock);
	j->next = inflight;
	inflight = j;
	pthread_mutex_unlock(&inflight_lock);
}

static void inflight_remove(job *j)
{
	pthread_mutex_lock(&inflight_lock);
	for (job **p = &inflight; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	pthread_mutex_unlock(&inflight_lock);
}

/* How many in-flight calls belong to `scope`; with `cancel`, marks them cancelled. */
static int scope_calls(const char *scope, bool cancel)
{
	int n = 0;
	pthread_mutex_lock(&inflight_lock);
	for (job *j = inflight; j; j = j->next)
		if (j->has_scope && !strcmp(j->scope, scope)) {
			n++;
			if (cancel)
				j->cancelled = 1;
		}
	pthread_mutex_unlock(&inflight_lock);
	return n;
}

#define CANCEL_DRAIN_MS 5000

/* agent.cancel: stops the scope's in-flight actions, closes what its calls opened, says what still runs. */
static int agent_cancel(const jv *params, sb *out, err *e)
{
	const char *scope = opt_str(params, "scope");
	if (!scope || !*scope)
		return fail(e, "AGENT", "agent.cancel: expected a scope name");
	int aborted = scope_calls(scope, true);
	int closed = res_close_scope(scope);
	int64_t deadline = now_ms() + CANCEL_DRAIN_MS;
	while (scope_calls(scope, false) > 0 && now_ms() < deadline)
		sleep_ms(10);
	sb_open(out, '{');
	sb_kint(out, "aborted", aborted);
	sb_kint(out, "stillRunning", scope_calls(scope, false));
	sb_kint(out, "closedResources", closed);
	sb_close(out, '}');
	return 0;
}

static int agent_status(const jv *params, sb *out, err *e)
{
	(void)params;
	(void)e;
	sb_open(out, '{');
	pthread_mutex_lock(&inflight_lock);
	int n = 0;
	for (job *j = inflight; j; j = j->next)
		n++;
	sb_kint(out, "inflight", n);
	sb_key(out, "inflightByScope");
	sb_open(out, '{');
	for (job *j = inflight; j; j = j->next) {
		if (!j->has_scope)
			continue;
		bool seen = false;
		for (job *k = inflight; k != j; k = k->next)
			seen = seen || (k->has_scope && !strcmp(k->scope, j->scope));
		if (seen)
			continue;
		int c = 0;
		for (job *k = j; k; k = k->next)
			c += k->has_scope && !strcmp(k->scope, j->scope);
		sb_key(out, j->scope);
		sb_printf(out, "%d", c);
	}
	sb_close(out, '}');
	pthread_mutex_unlock(&inflight_lock);
	sb_key(out, "resources");
	res_ids(out);
	sb_close(out, '}');
	return 0;
}

static void handle(job *j, char *line, size_t len)
{
	err e = {0};
	jv *req = json_parse(line, len);
	if (!req || req->t != J_OBJ) {
		char shown[64];
		size_t n = len < 60 ? len : 60;
		memcpy(shown, line, n);
		shown[n] = 0;
		sb q = {0};
		sb_jcstr(&q, shown);
		fail(&e, "AGENT", "agent: expected a JSON request line, found %s", q.p);
		sb_free(&q);
		respond_error(-1, &e);
		json_free(req);
		return;
	}
	double idd = -1;
	p_num(req, "id", &idd);
	long long id = (long long)idd;
	const char *method = opt_str(req, "method");
	const char *scope = opt_str(req, "scope");
	j->id = id;
	if (scope) {
		snprintf(j->scope, sizeof(j->scope), "%s", scope);
		j->has_scope = true;
	}
	/* Scope control is the server's own business, not an action's. */
	bool control = method && (!strcmp(method, "agent.cancel") || !strcmp(method, "agent.status"));
	action_fn fn = !method ? NULL : !strcmp(method, "agent.cancel") ? agent_cancel : !strcmp(method, "agent.status") ? agent_status : find_action(method);
	if (!fn) {
		fail(&e, "UNSUPPORTED_ACTION", "agent: unknown action \"%s\" (the native agent does not implement it)", method ? method : "");
		respond_error(id, &e);
		json_free(req);
		return;
	}
	jv empty = {.t = J_OBJ};
	jv *params = jget(req, "params");
	if (!params || params->t != J_OBJ)
		params = &empty;
	sb out = {0};
	sb_printf(&out, "{\"id\":%lld,\"result\":", id);
	size_t head = out.len;
	if (!control) {
		inflight_add(j);
		current = j;
	}
	int rc = fn(params, &out, &e);
	if (!control) {
		current = NULL;
		inflight_remove(j);
	}
	if (rc < 0 || e.set) {
		if (!e.set)
			fail(&e, "INTERNAL", "%s failed without saying why", method);
		respond_error(id, &e);
	} else {
		if (out.len == head)
			sb_puts(&out, "{}");
		sb_puts(&out, "}");
		write_line(&out);
	}
	sb_free(&out);
	json_free(req);
}

static void *job_main(void *arg)
{
	job *j = arg;
	handle(j, j->line, j->len);
	free(j->line);
	free(j);
	pthread_mutex_lock(&pend_lock);
	pending--;
	pthread_cond_broadcast(&pend_cond);
	pthread_mutex_unlock(&pend_lock);
	return NULL;
}

static void dispatch(const char *line, size_t len)
{
	job *j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->line = malloc(len + 1);
	if (!j->line)
		abort();
	memcpy(j->line, line, len);
	j->line[len] = 0;
	j->len = len;
	pthread_mutex_lock(&pend_lock);
	pending++;
	pthread_mutex_unlock(&pend_lock);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	pthread_t t;
	if (pthread_create(&t, &attr, job_main, j) != 0)
		job_main(j); /* out of threads: run it here rather than drop it */
	pthread_attr_destroy(&attr);
}

int serve(int in_fd, int ofd)
{
	out_fd = ofd;
	signal(SIGPIPE, SIG_IGN);
	zc_pattern_init();
	struct utsname u;
	uname(&u);
	sb hello = {0};
	sb_puts(&hello, "{\"hello\":\"nicmatrix-agent\"");
	sb_kint(&hello, "pid", getpid());
	sb_kstr(&hello, "kernel", u.release);
	sb_kstr(&hello, "node", "none");
	sb_kstr(&hello, "agent", AGENT_VERSION);
	sb_kstr(&hello, "arch", u.machine);
	sb_puts(&hello, "}");
	write_line(&hello);
	sb_free(&hello);

	sb buf = {0};
	char chunk[65536];
	bool unwoken = false;
	for (;;) {
		ssize_t n = read(in_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && port_polled) {
			unwoken = port_wait(in_fd, POLLIN);
			continue;
		}
		if (n <= 0)
			break;
		if (unwoken)
			port_unwoken_note("read");
		unwoken = false;
		sb_raw(&buf, chunk, (size_t)n);
		size_t start = 0;
		for (size_t i = buf.len - (size_t)n; i < buf.len; i++) {
			if (buf.p[i] != '\n')
				continue;
			size_t end = i;
			if (end > start && buf.p[end - 1] == '\r')
				end--;
			size_t s = start;
			while (s < end && (buf.p[s] == ' ' || buf.p[s] == '\t'))
				s++;
			if (end > s)
				dispatch(buf.p + s, end - s);
			start = i + 1;
		}
		memmove(buf.p, buf.p + start, buf.len - start);
		buf.len -= start;
	}
	sb_free(&buf);
	/* Input ended: let running requests answer, then close what is still open. */
	pthread_mutex_lock(&pend_lock);
	while (pending > 0)
		pthread_cond_wait(&pend_cond, &pend_lock);
	pthread_mutex_unlock(&pend_lock);
	res_close_all();
	return 0;
}

int serve_port(int fd)
{
	port_polled = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0;
	return serve(fd, fd);
}

int main(int argc, char **argv)
{
	if (getpid() == 1 || (argc > 1 && !strcmp(argv[1], "--init")))
		return guest_init_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		puts(AGENT_VERSION);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--port")) {
		int fd = open(argv[2], O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "nicmatrix-agent-native: cannot open %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
		return serve_port(fd);
	}
	if (argc > 1) {
		fprintf(stderr, "usage: nicmatrix-agent-native [--port DEVICE | --init | --version]\n");
		return 2;
	}
	return serve(0, 1);
}
