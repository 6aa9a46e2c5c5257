#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
// Linux-only system headers that `import Glibc` does not surface.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <signal.h>
#include <sys/prctl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

// accept4 is declared only under _GNU_SOURCE, which the Glibc module is not built with.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

// glibc 2.34's posix_spawn_file_actions_addclosefrom_np is declared only under _GNU_SOURCE too
// (the tests' ChildProcess closes every inherited descriptor above 2 with it).
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

// Swift cannot import the EPOLL* enum values as the typed flags epoll_ctl wants.
static inline uint32_t clinux_epollin(void) { return EPOLLIN; }
static inline uint32_t clinux_epollout(void) { return EPOLLOUT; }
static inline uint32_t clinux_epollrdhup(void) { return EPOLLRDHUP; }
static inline uint32_t clinux_epollhup(void) { return EPOLLHUP; }
static inline uint32_t clinux_epollerr(void) { return EPOLLERR; }

// Names the calling thread (pthread_setname_np needs _GNU_SOURCE); the kernel keeps 15 bytes.
static inline void clinux_set_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

// CPUs in this process's affinity mask (taskset, cpusets), 0 when unknown. sched_getaffinity and
// CPU_COUNT need _GNU_SOURCE; the system call does not (it answers the bytes of mask it filled).
static inline int clinux_affinity_cpu_count(void) {
    unsigned long mask[64]; // 4,096 CPUs
    long filled = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    if (filled <= 0) return 0;
    int count = 0;
    for (long i = 0; i < filled / (long)sizeof(unsigned long); i++) count += __builtin_popcountl(mask[i]);
    return count;
}

// The source revision a release build was made from: deploy/build.sh defines
// CLINUX_SOURCE_REVISION (`git describe`) with -Xcc; any other build has none ("").
static inline const char *clinux_source_revision(void) {
#ifdef CLINUX_SOURCE_REVISION
    return CLINUX_SOURCE_REVISION;
#else
    return "";
#endif
}
#endif
