// FlowForge — C shim: what Swift cannot call (variadics, GNU-only symbols, function-like macros)
// and what must not run in Swift (the code between clone and exec).
// SPDX-License-Identifier: Apache-2.0
#ifndef CFLOWFORGESYS_H
#define CFLOWFORGESYS_H

#include <stdint.h>
#include <sys/types.h>

// ---- prctl and friends (prctl is variadic; PR_* are not visible through Swift's Glibc) ----
int ffsys_set_child_subreaper(void);
int ffsys_set_pdeathsig(int sig);
int ffsys_set_no_new_privs(void);
int ffsys_set_dumpable(int on);
int ffsys_clear_ambient_caps(void);

// ---- pidfds (no glibc wrapper for pidfd_send_signal on bookworm) ----
int ffsys_pidfd_open(pid_t pid);
/// Sends `sig`; `group` != 0 adds PIDFD_SIGNAL_PROCESS_GROUP (Linux >= 6.9).
int ffsys_pidfd_send_signal(int pidfd, int sig, int group);
/// waitid(P_PIDFD, WEXITED|WNOHANG [|WNOWAIT]). Returns 0 and sets *exited when the child has exited.
int ffsys_pidfd_wait(int pidfd, int nowait, int *exited, int *code, int *signaled);
/// waitid(P_ALL, WEXITED|WNOHANG). Returns pid reaped, 0 if none, -1 on error (ECHILD when no children).
pid_t ffsys_reap_any(int *signaled, int *code);

// ---- signals ----
/// Blocks SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT (and ignores SIGPIPE), returns a signalfd for them.
int ffsys_signalfd_open(void);
/// Reads one siginfo; returns the signal number, 0 when none is pending, -1 on error.
int ffsys_signalfd_read(int fd, int32_t *pid);
/// Unblocks everything and resets every handler to default (used by helpers before they run).
void ffsys_reset_signals(void);

// ---- fds ----
int ffsys_pipe_cloexec(int fds[2]);
int ffsys_socketpair_seqpacket(int fds[2]);
int ffsys_set_nonblocking(int fd, int on);
int ffsys_close_from(int lowfd);
/// accept4(SOCK_CLOEXEC): accept4 is GNU-only for Swift.
int ffsys_accept_cloexec(int fd);
/// accept4(SOCK_NONBLOCK | SOCK_CLOEXEC): a connection for an event loop (accept4 is GNU-only for Swift).
int ffsys_accept_nonblock_cloexec(int fd);
/// Writes without blocking even when the file description is blocking (RWF_NOWAIT); -1/EAGAIN when full,
/// -1/EOPNOTSUPP when the file type does not support it.
ssize_t ffsys_write_nowait(int fd, const void *buf, size_t len);
/// Moves up to `len` bytes from pipe `in` to pipe `out` without copying them and without blocking on either
/// (splice, SPLICE_F_MOVE | SPLICE_F_NONBLOCK): -1/EAGAIN when `in` is empty or `out` is full, 0 at EOF.
ssize_t ffsys_splice_pipes(int in, int out, size_t len);
/// 1 when `fd` is a pipe or FIFO, 0 otherwise (or when fstat fails).
int ffsys_is_pipe(int fd);
/// Returns freed heap memory to the kernel (glibc malloc_trim(0), not in Swift's Glibc module); 1 if any was.
int ffsys_malloc_trim(void);
/// Resizes a pipe's buffer (F_SETPIPE_SZ); returns the new size, or -1 with errno.
int ffsys_set_pipe_size(int fd, int size);

// ---- sd_notify (the worker's NOTIFY_SOCKET) ----
/// A non-blocking, close-on-exec datagram socket bound to the abstract address `name` (no leading NUL; the
/// kernel's abstract namespace, so no file and no file permissions), with SO_PASSCRED on. -1 with errno.
int ffsys_notify_bind(const char *name);
/// One datagram into `buf` (at most `len` bytes; the rest of a longer one is dropped) with the sender's pid
/// and uid from SCM_CREDENTIALS. Returns its length, or -1 with errno (EAGAIN: none waiting). A datagram
/// without credentials reports pid 0.
int ffsys_notify_receive(int fd, char *buf, int len, int32_t *pid, uint32_t *uid);
/// A close-on-exec datagram socket connected to `address` as NOTIFY_SOCKET gives it: a path, or `@name` for
/// the abstract namespace. -1 with errno.
int ffsys_notify_connect(const char *address);
/// sendmsg with up to 8 fds as SCM_RIGHTS. `dontwait` adds MSG_DONTWAIT.
ssize_t ffsys_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds, int dontwait);
/// recvmsg accepting up to `maxfds` fds (MSG_CMSG_CLOEXEC). Truncated datagrams return -1/EMSGSIZE.
ssize_t ffsys_recv_with_fds(int sock, void *buf, size_t cap, int *fds, int maxfds, int *nfds, int dontwait);

// ---- credentials ----
int ffsys_setresuid(uid_t uid);
int ffsys_setresgid(gid_t gid);
int ffsys_setgroups_empty(void);

// ---- capabilities (libcap) ----
/// Drops every capability from the bounding set (needs CAP_SETPCAP, so call it first).
int ffsys_drop_bounding_set(void);
/// Sets permitted = effective = {caps...}, inheritable = {}. n may be 0 (drop everything).
int ffsys_set_caps_only(const int *caps, int n);

// ---- seccomp (libseccomp) ----
enum {
    FFSYS_ACT_ALLOW = 0,
    FFSYS_ACT_ERRNO_EPERM = 1,
    FFSYS_ACT_ERRNO_ENOSYS = 2,
    FFSYS_ACT_KILL_PROCESS = 3,
    FFSYS_ACT_LOG = 4,
};
enum {
    FFSYS_COND_NONE = 0,
    FFSYS_COND_NO_PROT_EXEC = 1,     // arg2 & PROT_EXEC == 0 (mmap, mprotect)
    FFSYS_COND_CLONE_THREAD = 2,     // arg0 & CLONE_THREAD != 0 (clone)
    FFSYS_COND_ARG0_IS_SELF = 3,     // arg0 == getpid() (kill, tgkill)
    FFSYS_COND_OPEN_READ_ONLY = 4,   // openat: arg2 has no write, create, truncate or append flag
    // The conditions below allow a call's harmless forms and refuse (EPERM) the ones that reach another
    // process; any other form hits the filter's default action.
    FFSYS_COND_FCNTL_PLAIN = 5,      // fcntl: descriptor flags, status flags without O_ASYNC, dup
    FFSYS_COND_FCNTL_LOCKS = 6,      // fcntl: as PLAIN, plus record locks (SQLite)
    FFSYS_COND_IOCTL_QUERY = 7,      // ioctl: TCGETS (isatty), FIONREAD, FIONBIO, FIOCLEX, FIONCLEX
    FFSYS_COND_TARGET_SELF = 8,      // prlimit64: pid 0; setpriority: PRIO_PROCESS and who 0
    FFSYS_COND_NO_ADDRESS = 9,       // sendto: no destination address (connected sockets only)
    FFSYS_COND_SOCKET_UNIX = 10,     // socket: AF_UNIX only (AF_INET, AF_INET6, AF_NETLINK, AF_PACKET refused)
};
void *ffsys_seccomp_new(int default_action);
/// Adds a rule for the syscall named `name`; returns -ENOENT-style negative value when the name is unknown.
int ffsys_seccomp_rule(void *ctx, const char *name, int action, int condition);
/// Loads with TSYNC and releases the context.
int ffsys_seccomp_load(void *ctx);
void ffsys_seccomp_release(void *ctx);

// ---- spawning ----
/// What a freshly created process does between clone and execve. All async-signal-safe.
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    const int *fd_map;      // fd_map[i] becomes fd i in the child
    int fd_count;
    int new_session;        // setsid()
    int cgroup_dir_fd;      // -1, or an open cgroup directory to start in (clone3 CLONE_INTO_CGROUP)
    int cgroup_procs_fd;    // -1, or that cgroup's cgroup.procs: the fallback join (write "0" before exec)
    int pdeathsig;          // 0 or a signal; checked against expected_parent afterwards
    pid_t expected_parent;
    int set_ids;            // switch to uid/gid (setgroups(0) first)
    uid_t uid;
    gid_t gid;
} ffsys_spawn_spec;

/// clone3(CLONE_PARENT | CLONE_PIDFD): the new process is a child of the caller's parent from its first
/// instruction. Returns the pid (and *pidfd), or -1 with errno (from clone3, or from the child's exec path).
pid_t ffsys_spawn_sibling(const ffsys_spawn_spec *spec, int *pidfd);
/// posix_spawn-like fork+exec for a plain child (used once, before any sandboxing). Returns pid or -1.
pid_t ffsys_spawn_child(const ffsys_spawn_spec *spec, int *pidfd);

// ---- test-only hook target ----
/// Performs a syscall that no FlowForge allowlist permits (mkdir), to prove a filter bites.
int ffsys_forbidden_syscall(void);
/// Test-only: performs the call named `call` (e.g. "fcntl-setown", see shim.c) on descriptors made by
/// ffsys_probe_prepare before the filter. Returns 0 if the kernel carried it out, else the errno.
int ffsys_probe_prepare(void);
int ffsys_probe_call(const char *call);

#endif
