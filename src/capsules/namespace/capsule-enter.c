/*
 * capsule-enter: one program for what `sh` (cgroup join) + `setpriv --no-new-privs` + `nsenter ... -r` + the inner
 * `sh` (cd) did per capsule process, in that order (see process.ts). Built by `npm run build` when gcc is there;
 * without it the driver uses that chain of tools instead.
 *
 *   capsule-enter run NPROCS PROCS... NSPID CWD CMD [ARG...]
 *       Joins the cgroups (writes its pid into each PROCS file), sets no-new-privs, enters the user, mount, pid,
 *       net, uts, ipc and cgroup namespaces of NSPID keeping its credentials (the capsule user, no capability after
 *       the exec), forks (the pid namespace applies to children), and the child chroots to NSPID's root, changes to
 *       CWD and execs CMD (argv as given, PATH lookup in this process's environment). The parent waits and exits
 *       as the child did. Stdio and environment are inherited.
 *   capsule-enter init NPROCS PROCS... MASK MASKMOUNT NOVERLAYS (MOUNTPOINT OPTIONS)... BWRAP [ARG...]
 *       The start of a capsule's init (init.ts), what `sh` (cgroup join) + `unshare -m --propagation private` +
 *       the mount script did: joins the cgroups, takes a private mount namespace of its own, copies MASK onto a
 *       tmpfs at MASKMOUNT, mounts the overlays in order, and execs BWRAP. Exit 90: the join failed; 91: a mount.
 *   capsule-enter serve SOCKET PARENTPID
 *       Colony's exec server: listens on SOCKET (0600); every connection carries one request, handled by a forked
 *       process exactly as `run`, so Colony forks nothing per exec (forking Colony's large process costs ms).
 *       Request: two messages, each a u32 length then NUL-terminated strings. The first, NPROCS PROCS...:
 *       the handler joins the leaf at once (so Colony can prepare a handler ahead of the command: joining a
 *       cgroup on v1 can wait for an RCU grace period, milliseconds). The second, NSPID CWD NARGS ARGS... NENV
 *       ENV... HASSTDIN, then the stdin bytes (the child's stdin is a memfd of them, else /dev/null); a handler
 *       whose connection ends before it just exits. Answer: frames u8 type, u32 length, data: 4 started (the
 *       command's process exists: without it, nothing ran and Colony may try again another way), 1 stdout,
 *       2 stderr, 3 exit ("code N pid P" or "signal N pid P", P the handler's own pid: it is still in the leaf
 *       and exits right after, Colony does not count it as left behind), after which it closes.
 *       A request whose first message is "init" then the arguments of `capsule-enter init` starts a capsule's init
       instead (Colony forks nothing for it either): answered with 4 (its data: the pid of the init's first
       process), 1 stdout, 2 stderr, 5 what bwrap writes to fd 3 (--json-status-fd), 3 exit; Colony ending the
       connection kills it. Its tree dies with Colony (the handler watches a pidfd of PARENTPID and kills it;
       bwrap's --die-with-parent does the rest), not with the server.
       Dies with PARENTPID (PDEATHSIG), removing SOCKET and its directory. Only a peer in the server's own user
 *       namespace is served (never a capsule process).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_JOIN 90     /* the cgroup join failed (as the shell chain's) */
#define EXIT_ENTER 1     /* no-new-privs or a namespace failed (as nsenter) */
#define EXIT_MOUNT 91    /* the init's filesystem could not be mounted (as the shell chain's) */
#define EXIT_CWD 125     /* the working directory does not exist (as the shell chain's) */

extern char **environ;

static int serving = -1; /* the connection, in a serve handler: errors go there as frames */
static int colony = -1;  /* the server's pidfd of Colony (its parent), inherited by handlers; -1 without pidfd */

static int write_all (int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) { if (errno == EINTR) continue; return -1; }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int frame (int fd, uint8_t type, const void *data, uint32_t len) {
  uint8_t head[5] = { type, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
  if (write_all(fd, head, 5) < 0) return -1;
  return write_all(fd, data, len);
}

/* Reports an entry failure (stderr, or stderr + exit frames when serving) and exits with `code`. */
static void fail (int code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  if (serving >= 0) {
    char status[32];
    int m = snprintf(status, sizeof status, "code %d", code);
    frame(serving, 2, msg, (uint32_t)n);
    frame(serving, 3, status, (uint32_t)m);
  } else {
    write_all(2, msg, (size_t)n);
  }
  _exit(code);
}

static void join_cgroups (int n, char **files) {
  char pid[24];
  int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  for (int i = 0; i < n; i++) {
    int fd = open(files[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, pid, (size_t)len) < 0) fail(EXIT_JOIN, "capsule-enter: cannot join %s: %s\n", files[i], strerror(errno));
    close(fd);
  }
}

static const struct { const char *name; int type; } NAMESPACES[] = {
  { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
  { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS }, { "user", CLONE_NEWUSER },
};
#define NNS (sizeof NAMESPACES / sizeof NAMESPACES[0])

/* no-new-privs, then every namespace of `nspid` (the user namespace last, as nsenter does when privileged).
 * Returns an fd of nspid's root directory (the child chroots to it). */
static int enter_namespaces (const char *nspid) {
  char path[64];
  int fds[NNS];
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(EXIT_ENTER, "capsule-enter: no-new-privs: %s\n", strerror(errno));
  for (size_t i = 0; i < NNS; i++) {
    snprintf(path, sizeof path, "/proc/%s/ns/%s", nspid, NAMESPACES[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) fail(EXIT_ENTER, "capsule-enter: cannot open %s: %s\n", path, strerror(errno));
  }
  snprintf(path, sizeof path, "/proc/%s/root", nspid);
  int root = open(path, O_RDONLY | O_CLOEXEC);
  if (root < 0) fail(EXIT_ENTER, "capsule-enter: cannot open %s: %s\n", path, strerror(errno));
  for (size_t i = 0; i < NNS; i++) {
    if (setns(fds[i], NAMESPACES[i].type) != 0) fail(EXIT_ENTER, "capsule-enter: reassociate to namespace '%s' failed: %s\n", NAMESPACES[i].name, strerror(errno));
    close(fds[i]);
  }
  return root;
}

/* In the forked child: default signals, the capsule's root, the working directory, the command. */
static void exec_child (int root, const char *cwd, char **argv) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  if (fchdir(root) != 0 || chroot(".") != 0) { dprintf(2, "capsule-enter: cannot change root: %s\n", strerror(errno)); _exit(EXIT_ENTER); }
  if (chdir(cwd) != 0) { dprintf(2, "capsule-enter: cannot change to directory %s: %s\n", cwd, strerror(errno)); _exit(EXIT_CWD); }
  execvp(argv[0], argv);
  int e = errno;
  dprintf(2, "capsule-enter: %s: %s\n", argv[0], strerror(e));
  _exit(e == ENOENT ? 127 : 126);
}

static int run (int argc, char **argv) {
  if (argc < 2) fail(2, "usage: capsule-enter run NPROCS PROCS... NSPID CWD CMD [ARG...]\n");
  int n = atoi(argv[0]);
  if (n < 0 || argc < n + 4) fail(2, "capsule-enter: missing arguments\n");
  join_cgroups(n, argv + 1);
  const char *nspid = argv[n + 1];
  const char *cwd = argv[n + 2];
  int root = enter_namespaces(nspid);
  signal(SIGCHLD, SIG_DFL);
  pid_t child = fork();
  if (child < 0) fail(EXIT_ENTER, "capsule-enter: fork: %s\n", strerror(errno));
  if (child == 0) exec_child(root, cwd, argv + n + 3);
  int status;
  for (;;) {
    pid_t r = waitpid(child, &status, WUNTRACED);
    if (r < 0) { if (errno == EINTR) continue; return EXIT_ENTER; }
    if (WIFSTOPPED(status)) { kill(getpid(), SIGSTOP); kill(child, SIGCONT); continue; }
    break;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int sig = WTERMSIG(status);
  signal(sig, SIG_DFL);
  kill(getpid(), sig);
  return 128 + sig;
}

/* Copies the attributes `cp -a` keeps (owner, mode, times) from st onto path. */
static int copy_attrs (const char *path, const struct stat *st) {
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  if (lchown(path, st->st_uid, st->st_gid) != 0) return -1;
  if (!S_ISLNK(st->st_mode) && chmod(path, st->st_mode & 07777) != 0) return -1;
  return utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
}

static int copy_file (const char *from, const char *to, mode_t mode) {
  int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
  if (out < 0) { close(in); return -1; }
  char buf[65536];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof buf)) > 0) if (write_all(out, buf, (size_t)n) < 0) { rc = -1; break; }
  if (n < 0) rc = -1;
  close(in);
  if (close(out) != 0) rc = -1;
  return rc;
}

/* `cp -a FROM/. TO/` for the mask (our own tree: directories, files, whiteouts): -1 with errno on failure. */
static int copy_tree (const char *from, const char *to) {
  DIR *dir = opendir(from);
  if (dir == NULL) return -1;
  struct dirent *e;
  char src[PATH_MAX], dst[PATH_MAX];
  struct stat st;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (snprintf(src, sizeof src, "%s/%s", from, e->d_name) >= (int)sizeof src ||
        snprintf(dst, sizeof dst, "%s/%s", to, e->d_name) >= (int)sizeof dst) { errno = ENAMETOOLONG; goto fail; }
    if (lstat(src, &st) != 0) goto fail;
    int rc;
    if (S_ISDIR(st.st_mode)) rc = (mkdir(dst, 0700) == 0 || errno == EEXIST) ? copy_tree(src, dst) : -1;
    else if (S_ISREG(st.st_mode)) rc = copy_file(src, dst, st.st_mode);
    else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlink(src, target, sizeof target - 1);
      if (n >= 0) target[n] = '\0';
      rc = n < 0 ? -1 : symlink(target, dst);
    } else rc = mknod(dst, st.st_mode, st.st_rdev);
    if (rc != 0 || copy_attrs(dst, &st) != 0) goto fail;
  }
  closedir(dir);
  return 0;
fail:
  closedir(dir);
  return -1;
}

static int init (int argc, char **argv) {
  int n = argc > 0 ? atoi(argv[0]) : -1;
  if (n < 0 || argc < n + 5) fail(2, "usage: capsule-enter init NPROCS PROCS... MASK MASKMOUNT NOVERLAYS (MOUNTPOINT OPTIONS)... BWRAP [ARG...]\n");
  join_cgroups(n, argv + 1);
  const char *mask = argv[n + 1], *mask_mount = argv[n + 2];
  int overlays = atoi(argv[n + 3]);
  char **rest = argv + n + 4;
  if (overlays < 0 || argc < n + 5 + 2 * overlays) fail(2, "capsule-enter: missing arguments\n");
  if (unshare(CLONE_NEWNS) != 0) fail(EXIT_MOUNT, "capsule-enter: unshare: %s\n", strerror(errno));
  if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail(EXIT_MOUNT, "capsule-enter: private mounts: %s\n", strerror(errno));
  if (mount("capsule-mask", mask_mount, "tmpfs", 0, "mode=755,size=4m") != 0) fail(EXIT_MOUNT, "capsule-enter: mount tmpfs on %s: %s\n", mask_mount, strerror(errno));
  umask(0);
  struct stat st;
  if (copy_tree(mask, mask_mount) != 0 || stat(mask, &st) != 0 || copy_attrs(mask_mount, &st) != 0) fail(EXIT_MOUNT, "capsule-enter: copy %s: %s\n", mask, strerror(errno));
  umask(022);
  for (int i = 0; i < overlays; i++) {
    if (mount("overlay", rest[2 * i], "overlay", 0, rest[2 * i + 1]) != 0) fail(EXIT_MOUNT, "capsule-enter: mount overlay on %s: %s\n", rest[2 * i], strerror(errno));
  }
  char **bwrap = rest + 2 * overlays;
  execv(bwrap[0], bwrap);
  fail(127, "capsule-enter: %s: %s\n", bwrap[0], strerror(errno));
  return 127;
}

/* Reads exactly len bytes; -1 on EOF or error. */
static int read_all (int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Next NUL-terminated string of the request, or fails. */
static char *next_string (char **at, char *end) {
  char *s = *at;
  char *nul = memchr(s, '\0', (size_t)(end - s));
  if (nul == NULL) fail(2, "capsule-enter: malformed request\n");
  *at = nul + 1;
  return s;
}

/* One read of a pipe into a frame: 1 sent, 2 nothing to read now, 0 end of file, -1 the connection failed. */
static int relay (int from, int to, uint8_t type) {
  char buf[65536];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 2;
  if (n <= 0) return 0;
  if (frame(to, type, buf, (uint32_t)n) < 0) return -1;
  return 1;
}

#define MAX_REQUEST (256u << 20)

/* One length-prefixed message of the request (NUL-terminated after its end); exits quietly on EOF. */
static char *read_message (int conn, uint32_t *len) {
  uint8_t head[4];
  if (read_all(conn, head, 4) < 0) _exit(0);
  *len = head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
  if (*len > MAX_REQUEST) fail(2, "capsule-enter: request too large\n");
  char *msg = malloc((size_t)*len + 1);
  if (msg == NULL || read_all(conn, msg, *len) < 0) _exit(0);
  msg[*len] = '\0';
  return msg;
}

/* Whether the peer of the connection is in this process's user namespace (no capsule process is: each capsule has
 * a user namespace of its own). The socket is not visible in any capsule anyway; this holds even if it were. */
static int peer_is_host (int conn) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  char path[64];
  struct stat peer, self;
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 0;
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)cred.pid);
  if (stat(path, &peer) != 0 || stat("/proc/self/ns/user", &self) != 0) return 0;
  return peer.st_dev == self.st_dev && peer.st_ino == self.st_ino;
}

/* Relays the pipes (frames of `types`) until `child` exits and its output is sent; returns its wait status. With
 * `watch`, the connection ending (Colony let go of it) or Colony's exit (`colony`, a pidfd) kills the child. */
static int pump (int conn, pid_t child, int *pipes, const uint8_t *types, int n, int watch) {
  int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
  struct pollfd fds[7];
  for (int i = 0; i < n; i++) fds[i] = (struct pollfd){ pipes[i], POLLIN, 0 };
  fds[n] = (struct pollfd){ pidfd, POLLIN, 0 };
  fds[n + 1] = (struct pollfd){ watch ? conn : -1, POLLIN, 0 };
  fds[n + 2] = (struct pollfd){ watch ? colony : -1, POLLIN, 0 };
  int status = 0;
  for (;;) {
    /* Without pidfd (kernel < 5.3) the exit is polled every 20 ms. */
    int r = poll(fds, (nfds_t)n + 3, pidfd < 0 ? 20 : -1);
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < n; i++) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      int got = relay(fds[i].fd, conn, types[i]);
      if (got < 0) { kill(child, SIGKILL); _exit(1); }
      if (got == 0) { close(fds[i].fd); fds[i].fd = -1; }
    }
    if (fds[n + 1].fd >= 0 && (fds[n + 1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char c;
      if (read(conn, &c, 1) <= 0) { kill(child, SIGKILL); fds[n + 1].fd = -1; }
    }
    if (fds[n + 2].fd >= 0 && (fds[n + 2].revents & POLLIN) != 0) { kill(child, SIGKILL); fds[n + 2].fd = -1; }
    if (pidfd >= 0 && (fds[n].revents & POLLIN) == 0) continue;
    pid_t w = waitpid(child, &status, pidfd < 0 ? WNOHANG : 0);
    if (w == child) break;
    if (w < 0 && errno != EINTR) break;
  }
  /* What the command wrote before it exited is in the pipes: send it before the exit (a process it left behind
   * may still write; Colony kills those with the leaf). */
  for (int i = 0; i < n; i++) {
    if (fds[i].fd < 0) continue;
    fcntl(fds[i].fd, F_SETFL, O_NONBLOCK);
    while (relay(fds[i].fd, conn, types[i]) == 1) {}
  }
  return status;
}

/* The exit frame (see the top), then this handler exits. */
static void exit_frame (int conn, int status) {
  char msg[64];
  int m = WIFSIGNALED(status) ? snprintf(msg, sizeof msg, "signal %d pid %d", WTERMSIG(status), (int)getpid())
                              : snprintf(msg, sizeof msg, "code %d pid %d", WEXITSTATUS(status), (int)getpid());
  frame(conn, 3, msg, (uint32_t)m);
  _exit(0);
}

static pid_t server_pid;

/* An `init` request: what `capsule-enter init` does (argv as its own), in a child whose stdout, stderr and fd 3 (bwrap's
 * --json-status-fd) come back as frames 1, 2 and 5; 4 (started) carries the child's pid. The init tree dies with
 * Colony: this handler kills the child when Colony exits (a pidfd of Colony; it does not depend on the server, so
 * a server that dies alone takes no capsule with it), bwrap dies with this handler (--die-with-parent), and the
 * capsule's pid 1 with bwrap. Colony ending the connection kills it too. Without pidfd (kernel < 5.3) the handler
 * dies with the server instead (PDEATHSIG), which dies with Colony. */
static void init_request (int conn, int argc, char **argv) {
  if (colony < 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != server_pid) _exit(1);
  }
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out[2], err[2], st[2];
  if (null < 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(st, O_CLOEXEC) != 0) fail(EXIT_ENTER, "capsule-enter: pipe: %s\n", strerror(errno));
  pid_t self = getpid();
  pid_t child = fork();
  if (child < 0) fail(EXIT_ENTER, "capsule-enter: fork: %s\n", strerror(errno));
  if (child == 0) {
    serving = -1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != self) _exit(1);
    /* Above the stdio numbers first (the server closed its stdout: a pipe may be fd 1), then onto 0-3. */
    int from[4] = { null, out[1], err[1], st[1] }, high[4];
    for (int i = 0; i < 4; i++) if ((high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 10)) < 0) _exit(EXIT_ENTER);
    for (int i = 0; i < 4; i++) if (dup2(high[i], i) < 0) _exit(EXIT_ENTER);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    _exit(init(argc, argv));
  }
  close(null);
  close(out[1]);
  close(err[1]);
  close(st[1]);
  char pid[24];
  int len = snprintf(pid, sizeof pid, "%d", (int)child);
  if (frame(conn, 4, pid, (uint32_t)len) < 0) { kill(child, SIGKILL); _exit(1); }
  int pipes[3] = { out[0], err[0], st[0] };
  static const uint8_t types[3] = { 1, 2, 5 };
  int status = pump(conn, child, pipes, types, 3, 1);
  exit_frame(conn, status);
}

static void handle (int conn) {
  if (!peer_is_host(conn)) _exit(2);
  serving = conn;
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  setsid();
  uint32_t len;
  char *req = read_message(conn, &len);
  char *at = req, *end = req + len;
  if (len >= 5 && memcmp(req, "init", 5) == 0) {
    at += 5;
    int argc = 0;
    char **argv = calloc((size_t)len + 1, sizeof *argv);
    while (at < end) argv[argc++] = next_string(&at, end);
    init_request(conn, argc, argv);
  }
  int n = atoi(next_string(&at, end));
  if (n < 0 || n > 16) fail(2, "capsule-enter: malformed request\n");
  char *procs[16];
  for (int i = 0; i < n; i++) procs[i] = next_string(&at, end);
  /* First the cgroup: nothing below is charged outside the capsule. */
  join_cgroups(n, procs);

  req = read_message(conn, &len);
  at = req;
  end = req + len;
  char *nspid = next_string(&at, end);
  char *cwd = next_string(&at, end);
  int nargs = atoi(next_string(&at, end));
  if (nargs < 1 || nargs > (1 << 20)) fail(2, "capsule-enter: malformed request\n");
  char **args = calloc((size_t)nargs + 1, sizeof *args);
  for (int i = 0; i < nargs; i++) args[i] = next_string(&at, end);
  int nenv = atoi(next_string(&at, end));
  if (nenv < 0 || nenv > (1 << 20)) fail(2, "capsule-enter: malformed request\n");
  char **env = calloc((size_t)nenv + 1, sizeof *env);
  for (int i = 0; i < nenv; i++) env[i] = next_string(&at, end);
  int has_stdin = strcmp(next_string(&at, end), "1") == 0;

  int in;
  if (has_stdin) {
    in = memfd_create("stdin", MFD_CLOEXEC);
    if (in < 0 || write_all(in, at, (size_t)(end - at)) < 0 || lseek(in, 0, SEEK_SET) < 0) fail(EXIT_ENTER, "capsule-enter: stdin: %s\n", strerror(errno));
  } else {
    in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0) fail(EXIT_ENTER, "capsule-enter: /dev/null: %s\n", strerror(errno));
  }
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) fail(EXIT_ENTER, "capsule-enter: pipe: %s\n", strerror(errno));
  int root = enter_namespaces(nspid);
  pid_t child = fork();
  if (child < 0) fail(EXIT_ENTER, "capsule-enter: fork: %s\n", strerror(errno));
  if (child == 0) {
    if (dup2(in, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(EXIT_ENTER);
    environ = env;
    exec_child(root, cwd, args);
  }
  close(in);
  close(out[1]);
  close(err[1]);
  if (frame(conn, 4, "", 0) < 0) { kill(child, SIGKILL); _exit(1); }
  int pipes[2] = { out[0], err[0] };
  static const uint8_t types[2] = { 1, 2 };
  int status = pump(conn, child, pipes, types, 2, 0);
  exit_frame(conn, status);
}

static char socket_path[PATH_MAX], socket_dir[PATH_MAX];

/* Colony went away (even kill -9): remove the socket and its directory (Colony made it for this server), exit. */
static void on_parent_death (int sig) {
  (void)sig;
  unlink(socket_path);
  rmdir(socket_dir);
  _exit(0);
}

static int serve (int argc, char **argv) {
  if (argc < 2) fail(2, "usage: capsule-enter serve SOCKET PARENTPID\n");
  if (strlen(argv[0]) >= sizeof socket_path) fail(2, "capsule-enter: socket path too long\n");
  strcpy(socket_path, argv[0]);
  strcpy(socket_dir, argv[0]);
  char *slash = strrchr(socket_dir, '/');
  if (slash != NULL) *slash = '\0';
  signal(SIGTERM, on_parent_death);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  /* Opened before the check: if Colony is still the parent then, the pidfd is Colony's (not a reused pid). */
  colony = (int)syscall(SYS_pidfd_open, (pid_t)atoi(argv[1]), 0);
  if (getppid() != (pid_t)atoi(argv[1])) return 1;
  server_pid = getpid();
  signal(SIGCHLD, SIG_IGN); /* handlers are reaped by the kernel */
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen(argv[0]) >= sizeof addr.sun_path) fail(2, "capsule-enter: socket path too long\n");
  strcpy(addr.sun_path, argv[0]);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  umask(077);
  unlink(argv[0]);
  if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 128) != 0) fail(1, "capsule-enter: %s: %s\n", argv[0], strerror(errno));
  if (write_all(1, "ready\n", 6) < 0) return 1;
  close(1);
  for (;;) {
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
      return 1;
    }
    pid_t h = fork();
    if (h == 0) {
      close(s);
      prctl(PR_SET_PDEATHSIG, 0);
      signal(SIGTERM, SIG_DFL);
      handle(c);
    }
    if (h < 0) { frame(c, 2, "capsule-enter: fork failed\n", 27); frame(c, 3, "code 1", 6); }
    close(c);
  }
}

int main (int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "run") == 0) return run(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "init") == 0) return init(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "serve") == 0) return serve(argc - 2, argv + 2);
  fail(2, "usage: capsule-enter run|init|serve ...\n");
  return 2;
}
