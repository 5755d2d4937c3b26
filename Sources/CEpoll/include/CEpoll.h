// The Linux calls the relay threads need that the Swift Glibc module does not import:
// epoll, eventfd, and naming a thread.
#ifndef C_EPOLL_H
#define C_EPOLL_H

#include <sys/epoll.h>
#include <sys/eventfd.h>

/// Names the calling thread (at most 15 bytes shown by ps/top); 0 on success.
int c_epoll_name_thread(const char *name);

#endif
