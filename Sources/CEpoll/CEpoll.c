#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CEpoll.h"

int c_epoll_name_thread(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

int c_epoll_accept(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

// struct sched_attr of sched_setattr(2), first version (48 bytes); glibc before 2.41 declares
// neither the struct nor a wrapper.
struct c_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

int64_t c_epoll_set_slice(uint64_t nanoseconds) {
    struct c_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return -errno;
    // Only the fair classes have a slice; a thread someone made real-time keeps its policy.
    if (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH) return -EINVAL;
    attr.size = sizeof attr;
    attr.sched_flags = 0;
    attr.sched_runtime = nanoseconds;
    attr.sched_deadline = 0;
    attr.sched_period = 0;
    if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return -errno;
    // Read back: Linux >= 6.12 reports the fair slice in sched_runtime; older kernels accept
    // the call, ignore the field and report 0.
    memset(&attr, 0, sizeof attr);
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return -errno;
    return (int64_t)attr.sched_runtime;
}
