// FlowForge — C shim implementation. Each helper is one call plus the reason it lives in C.
// SPDX-License-Identifier: Apache-2.0
#include "CFlowForgeSys.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <malloc.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <linux/sockios.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3 // glibc < 2.36 headers
#endif
#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2) // Linux 6.9 uapi
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

// prctl is variadic, so Swift cannot call it.
int ffsys_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
int ffsys_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int ffsys_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int ffsys_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0); }
int ffsys_clear_ambient_caps(void) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); }

// glibc 2.36 has no pidfd_send_signal wrapper visible to Swift; syscall() is variadic.
int ffsys_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int ffsys_pidfd_send_signal(int pidfd, int sig, int group) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, group ? PIDFD_SIGNAL_PROCESS_GROUP : 0);
}

int ffsys_pidfd_wait(int pidfd, int nowait, int *exited, int *code, int *signaled) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int flags = WEXITED | WNOHANG | (nowait ? WNOWAIT : 0);
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, flags) != 0) return -1;
    *exited = info.si_pid != 0;
    *signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    *code = info.si_status;
    return 0;
}

pid_t ffsys_reap_any(int *signaled, int *code) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0) return -1;
    *signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    *code = info.si_status;
    return info.si_pid;
}

// struct signalfd_siginfo is GNU-only for Swift.
int ffsys_signalfd_open(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    signal(SIGPIPE, SIG_IGN); // a closed stdout reader must surface as EPIPE, not kill the reaper
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int ffsys_signalfd_read(int fd, int32_t *pid) {
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    if (n < 0) return (errno == EAGAIN) ? 0 : -1;
    if (n != sizeof si) return 0;
    *pid = (int32_t)si.ssi_pid;
    return (int)si.ssi_signo;
}

void ffsys_reset_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        (void)sigaction(sig, &sa, NULL); // fails harmlessly for the glibc-reserved signals
    }
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

// pipe2 and accept4-style flags are GNU-only for Swift.
int ffsys_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
int ffsys_socketpair_seqpacket(int fds[2]) { return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds); }

int ffsys_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags);
}

int ffsys_accept_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }
int ffsys_accept_nonblock_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

// close_range has no glibc 2.36 wrapper visible to Swift.
int ffsys_close_from(int lowfd) { return (int)syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0); }

// pwritev2 with RWF_NOWAIT lets the reaper try a write to a blocking stdout it shares with its caller
// without ever setting O_NONBLOCK on that shared file description.
ssize_t ffsys_write_nowait(int fd, const void *buf, size_t len) {
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    return pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
}

// splice is GNU-only for Swift; S_ISFIFO and F_SETPIPE_SZ are macros.
ssize_t ffsys_splice_pipes(int in, int out, size_t len) {
    return splice(in, NULL, out, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

int ffsys_is_pipe(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

int ffsys_set_pipe_size(int fd, int size) { return fcntl(fd, F_SETPIPE_SZ, size); }

int ffsys_malloc_trim(void) { return malloc_trim(0); }

// CMSG_FIRSTHDR/CMSG_DATA are function-like macros.
ssize_t ffsys_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds, int dontwait) {
    if (nfds < 0 || nfds > 8) { errno = EINVAL; return -1; }
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union { char raw[CMSG_SPACE(sizeof(int) * 8)]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        msg.msg_control = control.raw;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL | (dontwait ? MSG_DONTWAIT : 0));
}

ssize_t ffsys_recv_with_fds(int sock, void *buf, size_t cap, int *fds, int maxfds, int *nfds, int dontwait) {
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union { char raw[CMSG_SPACE(sizeof(int) * 8)]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.raw,
                         .msg_controllen = sizeof control.raw};
    *nfds = 0;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | (dontwait ? MSG_DONTWAIT : 0));
    if (n < 0) return n;
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int tmp[8];
        if (count > 8) count = 8;
        memcpy(tmp, CMSG_DATA(c), sizeof(int) * (size_t)count);
        for (int i = 0; i < count; i++) {
            if (got < maxfds) fds[got++] = tmp[i];
            else close(tmp[i]); // never leak what we will not hand to the caller
        }
    }
    *nfds = got;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        for (int i = 0; i < got; i++) close(fds[i]);
        *nfds = 0;
        errno = EMSGSIZE;
        return -1;
    }
    return n;
}

// setresuid/setresgid are GNU-only for Swift.
int ffsys_setresuid(uid_t uid) { return setresuid(uid, uid, uid); }
int ffsys_setresgid(gid_t gid) { return setresgid(gid, gid, gid); }
int ffsys_setgroups_empty(void) { return setgroups(0, NULL); }

int ffsys_drop_bounding_set(void) {
    for (int cap = 0; cap <= (int)cap_max_bits() - 1; cap++) {
        if (cap_drop_bound((cap_value_t)cap) != 0 && errno != EINVAL) return -1;
    }
    return 0;
}

int ffsys_set_caps_only(const int *caps, int n) {
    cap_t c = cap_init(); // all clear
    if (c == NULL) return -1;
    if (n > 0) {
        cap_value_t values[64];
        if (n > 64) n = 64;
        for (int i = 0; i < n; i++) values[i] = (cap_value_t)caps[i];
        if (cap_set_flag(c, CAP_PERMITTED, n, values, CAP_SET) != 0 ||
            cap_set_flag(c, CAP_EFFECTIVE, n, values, CAP_SET) != 0) {
            cap_free(c);
            return -1;
        }
    }
    int rc = cap_set_proc(c);
    int saved = errno;
    cap_free(c);
    errno = saved;
    return rc;
}

// SCMP_ACT_ERRNO(x) and seccomp_rule_add are a macro and a variadic.
static uint32_t action_value(int action) {
    switch (action) {
    case FFSYS_ACT_ALLOW: return SCMP_ACT_ALLOW;
    case FFSYS_ACT_ERRNO_EPERM: return SCMP_ACT_ERRNO(EPERM);
    case FFSYS_ACT_ERRNO_ENOSYS: return SCMP_ACT_ERRNO(ENOSYS);
    case FFSYS_ACT_LOG: return SCMP_ACT_LOG;
    default: return SCMP_ACT_KILL_PROCESS;
    }
}

void *ffsys_seccomp_new(int default_action) {
    scmp_filter_ctx ctx = seccomp_init(action_value(default_action));
    if (ctx == NULL) return NULL;
    // TSYNC: every thread gets the filter (and NNP), not only the caller.
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

static int add_cmp(void *ctx, uint32_t act, int nr, unsigned int n, struct scmp_arg_cmp a, struct scmp_arg_cmp b) {
    return n == 1 ? seccomp_rule_add(ctx, act, nr, 1, a) : seccomp_rule_add(ctx, act, nr, 2, a, b);
}

#define RULE1(cmp) do { int rc_ = add_cmp(ctx, act, nr, 1, cmp, cmp); if (rc_ < 0) return rc_; } while (0)
#define DENY1(cmp) do { int rc_ = add_cmp(ctx, eperm, nr, 1, cmp, cmp); if (rc_ < 0) return rc_; } while (0)

static int fcntl_rules(void *ctx, uint32_t act, int nr, int locks) {
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    const int plain[] = {F_GETFD, F_SETFD, F_GETFL, F_DUPFD, F_DUPFD_CLOEXEC};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) RULE1(SCMP_A1(SCMP_CMP_EQ, plain[i]));
    // Status flags, but never O_ASYNC: with an owner it sends a signal to a process of the caller's uid.
    int rc = add_cmp(ctx, act, nr, 2, SCMP_A1(SCMP_CMP_EQ, F_SETFL), SCMP_A2(SCMP_CMP_MASKED_EQ, O_ASYNC, 0));
    if (rc < 0) return rc;
    rc = add_cmp(ctx, eperm, nr, 2, SCMP_A1(SCMP_CMP_EQ, F_SETFL), SCMP_A2(SCMP_CMP_MASKED_EQ, O_ASYNC, O_ASYNC));
    if (rc < 0) return rc;
    if (locks) {
        const int lk[] = {F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW};
        for (size_t i = 0; i < sizeof lk / sizeof lk[0]; i++) RULE1(SCMP_A1(SCMP_CMP_EQ, lk[i]));
    }
    const int refused[] = {F_SETOWN, F_SETOWN_EX, F_SETSIG, F_SETLEASE, F_NOTIFY};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) DENY1(SCMP_A1(SCMP_CMP_EQ, refused[i]));
    return 0;
}

static int ioctl_rules(void *ctx, uint32_t act, int nr) {
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    const unsigned long allowed[] = {TCGETS, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) RULE1(SCMP_A1(SCMP_CMP_EQ, allowed[i]));
    // Signal owners, async I/O, and terminal injection or control: refused cleanly.
    const unsigned long refused[] = {FIOSETOWN, SIOCSPGRP, FIOASYNC, TIOCSTI, TIOCSPGRP, TIOCSCTTY, TIOCCONS, TIOCSETD};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) DENY1(SCMP_A1(SCMP_CMP_EQ, refused[i]));
    return 0;
}

// The HTTP servers get their listening socket before the filter (ListeningSocket): what is left is the
// dashboard's unix sockets to the runs' control endpoints. A new TCP or UDP socket is what a compromised
// server would need to reach another address; netlink and packet sockets, to probe or sniff the host.
static int socket_rules(void *ctx, uint32_t act, int nr) {
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    RULE1(SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    DENY1(SCMP_A0(SCMP_CMP_EQ, AF_INET));
    DENY1(SCMP_A0(SCMP_CMP_EQ, AF_INET6));
    DENY1(SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
    DENY1(SCMP_A0(SCMP_CMP_EQ, AF_PACKET));
    return 0;
}

int ffsys_seccomp_rule(void *ctx, const char *name, int action, int condition) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return -ENOENT;
    uint32_t act = action_value(action);
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    switch (condition) {
    case FFSYS_COND_NO_PROT_EXEC:
        return seccomp_rule_add(ctx, act, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    case FFSYS_COND_CLONE_THREAD:
        return seccomp_rule_add(ctx, act, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    case FFSYS_COND_OPEN_READ_ONLY:
        return seccomp_rule_add(ctx, act, nr, 1,
                                SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY));
    case FFSYS_COND_ARG0_IS_SELF:
        return seccomp_rule_add(ctx, act, nr, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
    case FFSYS_COND_FCNTL_PLAIN:
    case FFSYS_COND_FCNTL_LOCKS:
        if (nr != SCMP_SYS(fcntl)) return -EINVAL;
        return fcntl_rules(ctx, act, nr, condition == FFSYS_COND_FCNTL_LOCKS);
    case FFSYS_COND_IOCTL_QUERY:
        if (nr != SCMP_SYS(ioctl)) return -EINVAL;
        return ioctl_rules(ctx, act, nr);
    case FFSYS_COND_TARGET_SELF:
        if (nr == SCMP_SYS(prlimit64)) {
            RULE1(SCMP_A0(SCMP_CMP_EQ, 0));
            DENY1(SCMP_A0(SCMP_CMP_NE, 0));
            return 0;
        }
        if (nr == SCMP_SYS(setpriority)) {
            int rc = add_cmp(ctx, act, nr, 2, SCMP_A0(SCMP_CMP_EQ, PRIO_PROCESS), SCMP_A1(SCMP_CMP_EQ, 0));
            if (rc < 0) return rc;
            DENY1(SCMP_A0(SCMP_CMP_NE, PRIO_PROCESS));
            DENY1(SCMP_A1(SCMP_CMP_NE, 0));
            return 0;
        }
        return -EINVAL;
    case FFSYS_COND_NO_ADDRESS:
        if (nr != SCMP_SYS(sendto)) return -EINVAL;
        RULE1(SCMP_A4(SCMP_CMP_EQ, 0));
        DENY1(SCMP_A4(SCMP_CMP_NE, 0));
        return 0;
    case FFSYS_COND_SOCKET_UNIX:
        if (nr != SCMP_SYS(socket)) return -EINVAL;
        return socket_rules(ctx, act, nr);
    default:
        (void)eperm;
        return seccomp_rule_add(ctx, act, nr, 0);
    }
}

int ffsys_seccomp_load(void *ctx) {
    int rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

void ffsys_seccomp_release(void *ctx) { seccomp_release(ctx); }

// ---- sd_notify ----

// A non-blocking, close-on-exec datagram socket at `addr`: bound with SO_PASSCRED on (`bind_it`), else connected.
static int notify_socket(const struct sockaddr_un *addr, socklen_t len, int bind_it) {
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int on = 1;
    int rc = bind_it
        ? (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0 ? -1 : bind(fd, (const struct sockaddr *)addr, len))
        : connect(fd, (const struct sockaddr *)addr, len);
    if (rc != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int ffsys_notify_bind(const char *name) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    size_t n = strlen(name);
    if (n == 0 || n + 1 > sizeof addr.sun_path) { errno = ENAMETOOLONG; return -1; }
    memcpy(addr.sun_path + 1, name, n); // sun_path[0] = 0: the abstract namespace
    return notify_socket(&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n), 1);
}

int ffsys_notify_connect(const char *address) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    size_t n = strlen(address);
    if (n < 2 || n >= sizeof addr.sun_path || (address[0] != '/' && address[0] != '@')) { errno = EINVAL; return -1; }
    memcpy(addr.sun_path, address, n);
    if (address[0] == '@') addr.sun_path[0] = 0;
    return notify_socket(&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (address[0] == '/' ? 1 : 0)), 0);
}

int ffsys_notify_receive(int fd, char *buf, int len, int32_t *pid, uint32_t *uid) {
    union { struct cmsghdr align; char space[CMSG_SPACE(sizeof(struct ucred))]; } control;
    struct iovec iov = { .iov_base = buf, .iov_len = (size_t)len };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof control.space;
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return -1;
    *pid = 0;
    *uid = (uint32_t)-1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred cred;
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            *pid = cred.pid;
            *uid = cred.uid;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            // Descriptors sent along (sd_pid_notify_with_fds): never wanted here; close them.
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < count; i++) {
                int passed;
                memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
                close(passed);
            }
        }
    }
    return (int)n;
}

// ---- spawning: everything from here to execve runs in the new process and is async-signal-safe ----

static void child_fail(int errfd) {
    int e = errno;
    ssize_t ignored = write(errfd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

static void child_exec(const ffsys_spawn_spec *s, int errfd, int in_cgroup) {
    ffsys_reset_signals();
    if (s->new_session && setsid() < 0) child_fail(errfd);
    // Joining by cgroup.procs is a migration: it waits for an RCU grace period (15-25 ms measured here),
    // which CLONE_INTO_CGROUP avoids. It is the fallback for kernels or hierarchies that refuse that flag.
    if (!in_cgroup && s->cgroup_procs_fd >= 0 && write(s->cgroup_procs_fd, "0", 1) != 1) child_fail(errfd);
    if (s->set_ids) {
        if (setgroups(0, NULL) != 0 || setresgid(s->gid, s->gid, s->gid) != 0 ||
            setresuid(s->uid, s->uid, s->uid) != 0)
            child_fail(errfd);
    }
    // After the credential change: a uid change clears PDEATHSIG.
    if (s->pdeathsig > 0) {
        if (prctl(PR_SET_PDEATHSIG, s->pdeathsig, 0, 0, 0) != 0) child_fail(errfd);
        if (s->expected_parent > 0 && getppid() != s->expected_parent) _exit(127); // parent already gone
    }
    // Move every source above the target range first so overlapping maps cannot clobber each other.
    int tmp[16];
    int count = s->fd_count > 16 ? 16 : s->fd_count;
    for (int i = 0; i < count; i++) {
        tmp[i] = fcntl(s->fd_map[i], F_DUPFD_CLOEXEC, count + 1);
        if (tmp[i] < 0) child_fail(errfd);
    }
    int err2 = fcntl(errfd, F_DUPFD_CLOEXEC, count + 1);
    if (err2 < 0) child_fail(errfd);
    errfd = err2;
    for (int i = 0; i < count; i++) {
        if (dup2(tmp[i], i) < 0) child_fail(errfd); // dup2 clears FD_CLOEXEC on the target
    }
    // Everything else closes at exec, the error pipe included.
    if (syscall(SYS_close_range, (unsigned)count, ~0U, CLOSE_RANGE_CLOEXEC) != 0) child_fail(errfd);
    // WATCHDOG_PID (sd_notify): the worker's own pid, known only here. The spawner passes
    // "WATCHDOG_PID=" followed by 12 '%' as room for the digits.
    for (char *const *e = s->envp; *e != NULL; e++) {
        if (memcmp(*e, "WATCHDOG_PID=%", 14) != 0) continue;
        char digits[16];
        int n = 0;
        for (unsigned long pid = (unsigned long)getpid(); n == 0 || pid > 0; pid /= 10) digits[n++] = (char)('0' + pid % 10);
        char *value = *e + 13;
        for (int i = 0; i < n; i++) value[i] = digits[n - 1 - i];
        value[n] = 0;
    }
    execve(s->path, s->argv, s->envp);
    child_fail(errfd);
}

static pid_t spawn_with_clone3(const ffsys_spawn_spec *spec, int *pidfd, uint64_t flags, uint64_t exit_signal) {
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) return -1;
    int fd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&fd;
    args.exit_signal = exit_signal; // must be 0 with CLONE_PARENT: the kernel uses the parent's own
    int in_cgroup = 0;
    long pid = -1;
    if (spec->cgroup_dir_fd >= 0) {
        struct clone_args into = args;
        into.flags |= CLONE_INTO_CGROUP;
        into.cgroup = (uint64_t)spec->cgroup_dir_fd;
        pid = syscall(SYS_clone3, &into, sizeof into);
        in_cgroup = pid >= 0;
    }
    if (pid < 0) pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) {
        int e = errno;
        close(errpipe[0]);
        close(errpipe[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        close(errpipe[0]);
        child_exec(spec, errpipe[1], in_cgroup);
    }
    close(errpipe[1]);
    int child_errno = 0;
    ssize_t n;
    do { n = read(errpipe[0], &child_errno, sizeof child_errno); } while (n < 0 && errno == EINTR);
    close(errpipe[0]);
    if (n == (ssize_t)sizeof child_errno) {
        // The child failed before exec and exits with 127. A sibling is reaped by our parent; our own child by us.
        close(fd);
        if (exit_signal != 0) (void)waitpid((pid_t)pid, NULL, 0);
        errno = child_errno;
        return -1;
    }
    *pidfd = fd;
    return (pid_t)pid;
}

pid_t ffsys_spawn_sibling(const ffsys_spawn_spec *spec, int *pidfd) {
    return spawn_with_clone3(spec, pidfd, CLONE_PARENT, 0);
}

pid_t ffsys_spawn_child(const ffsys_spawn_spec *spec, int *pidfd) {
    return spawn_with_clone3(spec, pidfd, 0, SIGCHLD);
}

int ffsys_forbidden_syscall(void) { return mkdir("/nonexistent-flowforge-seccomp-probe", 0700); }

// ---- test-only: each argument rule's calls, refused and allowed (Tests: SeccompArgumentTests) ----
static int probe_pair[2] = {-1, -1};
static int probe_udp = -1;
static int probe_tcp = -1; // unbound: for bind-inet and listen
static pid_t probe_parent = -1; // getppid is on no allowlist: read before the filter

int ffsys_probe_prepare(void) {
    probe_parent = getppid();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, probe_pair) != 0) return errno;
    probe_udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe_udp < 0) return errno;
    probe_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return probe_tcp < 0 ? errno : 0;
}

static int probe_result(long rc) { return rc < 0 ? errno : 0; }

int ffsys_probe_call(const char *call) {
    const pid_t parent = probe_parent;
    int one = 1;
    pid_t target = parent;
    struct rlimit64 lim;
    if (strcmp(call, "fcntl-getfl") == 0) return probe_result(fcntl(probe_pair[0], F_GETFL));
    if (strcmp(call, "fcntl-setfl-nonblock") == 0) return probe_result(fcntl(probe_pair[0], F_SETFL, O_NONBLOCK));
    if (strcmp(call, "fcntl-setfl-async") == 0) return probe_result(fcntl(probe_pair[0], F_SETFL, O_NONBLOCK | O_ASYNC));
    if (strcmp(call, "fcntl-setown") == 0) return probe_result(fcntl(probe_pair[0], F_SETOWN, parent));
    if (strcmp(call, "fcntl-setown-ex") == 0) {
        struct f_owner_ex owner = {.type = F_OWNER_PID, .pid = parent};
        return probe_result(fcntl(probe_pair[0], F_SETOWN_EX, &owner));
    }
    if (strcmp(call, "fcntl-setsig") == 0) return probe_result(fcntl(probe_pair[0], F_SETSIG, SIGKILL));
    if (strcmp(call, "fcntl-setlease") == 0) return probe_result(fcntl(probe_pair[0], F_SETLEASE, F_RDLCK));
    if (strcmp(call, "fcntl-getlk") == 0) {
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        return probe_result(fcntl(probe_pair[0], F_GETLK, &fl));
    }
    if (strcmp(call, "ioctl-fionread") == 0) return probe_result(ioctl(probe_pair[0], FIONREAD, &one));
    if (strcmp(call, "ioctl-fiosetown") == 0) return probe_result(ioctl(probe_pair[0], FIOSETOWN, &target));
    if (strcmp(call, "ioctl-siocspgrp") == 0) return probe_result(ioctl(probe_pair[0], SIOCSPGRP, &target));
    if (strcmp(call, "ioctl-fioasync") == 0) return probe_result(ioctl(probe_pair[0], FIOASYNC, &one));
    if (strcmp(call, "ioctl-tiocsti") == 0) {
        char c = '#';
        return probe_result(ioctl(0, TIOCSTI, &c));
    }
    if (strcmp(call, "prlimit-self") == 0) return probe_result(prlimit64(0, RLIMIT_NOFILE, NULL, &lim));
    if (strcmp(call, "prlimit-other") == 0) return probe_result(prlimit64(parent, RLIMIT_NOFILE, NULL, &lim));
    if (strcmp(call, "setpriority-self") == 0) {
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, 0);
        if (errno != 0) return errno;
        return probe_result(setpriority(PRIO_PROCESS, 0, nice));
    }
    if (strcmp(call, "setpriority-other") == 0) return probe_result(setpriority(PRIO_PROCESS, (id_t)parent, 19));
    if (strcmp(call, "setpriority-group") == 0) return probe_result(setpriority(PRIO_PGRP, 0, 19));
    if (strcmp(call, "sendto-connected") == 0) return probe_result(sendto(probe_pair[0], "x", 1, MSG_NOSIGNAL, NULL, 0));
    if (strcmp(call, "sendto-address") == 0) {
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        return probe_result(sendto(probe_udp, "x", 1, 0, (struct sockaddr *)&to, sizeof to));
    }
    if (strcmp(call, "bind-inet") == 0) {
        struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        return probe_result(bind(probe_tcp, (struct sockaddr *)&at, sizeof at));
    }
    // On an unbound socket listen(2) binds an ephemeral port itself: a listener without bind.
    if (strcmp(call, "listen") == 0) return probe_result(listen(probe_tcp, 1));
    int domain = -1;
    if (strcmp(call, "socket-inet") == 0) domain = AF_INET;
    if (strcmp(call, "socket-unix") == 0) domain = AF_UNIX;
    if (strcmp(call, "socket-netlink") == 0) domain = AF_NETLINK;
    if (strcmp(call, "socket-packet") == 0) domain = AF_PACKET;
    if (domain >= 0) {
        int fd = socket(domain, domain == AF_NETLINK || domain == AF_PACKET ? SOCK_RAW : SOCK_STREAM, 0);
        if (fd < 0) return errno;
        close(fd);
        return 0;
    }
    return EINVAL;
}
