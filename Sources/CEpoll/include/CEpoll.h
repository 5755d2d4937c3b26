// The Linux calls the relay threads need that the Swift Glibc module does not import:
// epoll, eventfd, accept4, naming a thread and its scheduler time slice.
#ifndef C_EPOLL_H
#define C_EPOLL_H

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: the new socket, or -1 with errno set.
int c_epoll_accept(int fd, struct sockaddr *address, socklen_t *length);

/// Names the calling thread (at most 15 bytes shown by ps/top); 0 on success.
int c_epoll_name_thread(const char *name);

/// Asks the scheduler for a time slice of `nanoseconds` for the calling thread (EEVDF custom slice,
/// sched_setattr's sched_runtime for SCHED_OTHER; Linux >= 6.12 clamps it to 0.1-100 ms), keeping
/// its policy and nice value. Returns the slice the kernel reports afterwards: the one set, or 0
/// when the kernel has no custom slices; -errno when a call failed or the thread is not in a fair
/// class.
int64_t c_epoll_set_slice(uint64_t nanoseconds);

#endif
