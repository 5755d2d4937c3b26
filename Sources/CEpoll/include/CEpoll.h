// The Linux calls the relay threads need that the Swift Glibc module does not import:
// epoll, eventfd, naming a thread, and giving freed heap pages back.
#ifndef C_EPOLL_H
#define C_EPOLL_H

#include <sys/epoll.h>
#include <sys/eventfd.h>

/// Names the calling thread (at most 15 bytes shown by ps/top); 0 on success.
int c_epoll_name_thread(const char *name);

/// glibc malloc_trim(0): returns free heap pages of every arena to the system; 1 if any were.
int c_epoll_trim_heap(void);

#endif
